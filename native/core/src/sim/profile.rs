//! Reality profiles: named sets of parameter distributions sampled once per episode.
//!
//! Every episode draws from its own random stream derived from `(seed, episode)` (SplitMix64
//! seeding a xoshiro256++ generator), so episodes are independent of thread scheduling and a
//! rollout replays bit for bit.

use super::error::{SimError, SimResult};
use super::math::{Mat3, Vec3};

/// SplitMix64 step, used to derive stream seeds.
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256++ (Blackman and Vigna), seeded through SplitMix64.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

impl Rng {
    /// The stream for `(seed, episode, purpose)`.
    pub fn for_episode(seed: u64, episode: u64, purpose: u64) -> Rng {
        let mut x = splitmix64(seed)
            ^ splitmix64(
                episode
                    .wrapping_mul(0xD1B5_4A32_D192_ED03)
                    .wrapping_add(purpose),
            );
        let mut s = [0u64; 4];
        for v in s.iter_mut() {
            x = splitmix64(x);
            *v = x;
        }
        if s.iter().all(|&v| v == 0) {
            s[0] = 1;
        }
        Rng {
            s,
            spare_normal: None,
        }
    }
    pub fn next_u64(&mut self) -> u64 {
        let r = (self.s[0].wrapping_add(self.s[3]))
            .rotate_left(23)
            .wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }
    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Standard normal (Marsaglia polar method).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let k = (-2.0 * s.ln() / s).sqrt();
                self.spare_normal = Some(v * k);
                return u * k;
            }
        }
    }
}

/// A scalar distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    Const(f64),
    Uniform {
        low: f64,
        high: f64,
    },
    /// Normal, truncated to `[low, high]` by clamping.
    Normal {
        mean: f64,
        std: f64,
        low: f64,
        high: f64,
    },
    /// Log-uniform on `[low, high]` (both > 0).
    LogUniform {
        low: f64,
        high: f64,
    },
}

impl Dist {
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        match *self {
            Dist::Const(c) => c,
            Dist::Uniform { low, high } => low + (high - low) * rng.uniform(),
            Dist::Normal {
                mean,
                std,
                low,
                high,
            } => (mean + std * rng.normal()).clamp(low, high),
            Dist::LogUniform { low, high } => {
                (low.ln() + (high.ln() - low.ln()) * rng.uniform()).exp()
            }
        }
    }
    /// `(kind, parameters)` for documentation and the API.
    pub fn describe(&self) -> (&'static str, Vec<(&'static str, f64)>) {
        match *self {
            Dist::Const(c) => ("constant", vec![("value", c)]),
            Dist::Uniform { low, high } => ("uniform", vec![("low", low), ("high", high)]),
            Dist::Normal {
                mean,
                std,
                low,
                high,
            } => (
                "normal",
                vec![("mean", mean), ("std", std), ("low", low), ("high", high)],
            ),
            Dist::LogUniform { low, high } => ("log_uniform", vec![("low", low), ("high", high)]),
        }
    }
    fn validate(&self, param: &str) -> SimResult<()> {
        let bad = |m: &str| {
            Err(SimError::Invalid(format!(
                "profile parameter '{param}': {m}"
            )))
        };
        match *self {
            Dist::Const(c) if !c.is_finite() => bad("value is not finite"),
            Dist::Uniform { low, high }
                if !(low.is_finite() && high.is_finite() && low <= high) =>
            {
                bad("uniform needs finite low <= high")
            }
            Dist::Normal {
                mean,
                std,
                low,
                high,
            } if !(mean.is_finite() && std.is_finite() && std >= 0.0 && low <= high) => {
                bad("normal needs finite mean, std >= 0 and low <= high")
            }
            Dist::LogUniform { low, high } if !(low > 0.0 && high >= low && high.is_finite()) => {
                bad("log_uniform needs 0 < low <= high")
            }
            _ => Ok(()),
        }
    }
}

/// The randomised parameters, in sampling order, with their meaning and unit.
pub const PARAMS: &[(&str, &str)] = &[
    (
        "ground_friction",
        "Coulomb friction coefficient mu of the ground contact (friction cone |f_t| <= mu f_n)",
    ),
    (
        "mass_scale",
        "multiplier on each link's mass and first moment, drawn independently per body",
    ),
    (
        "inertia_scale",
        "multiplier on each link's rotational inertia about its centre of mass, per body",
    ),
    (
        "damping_scale",
        "multiplier on the URDF joint viscous damping",
    ),
    (
        "joint_friction_scale",
        "multiplier on the URDF joint Coulomb friction",
    ),
    (
        "actuator_gain",
        "applied torque = gain * commanded torque (before effort limits)",
    ),
    (
        "actuator_latency",
        "seconds between a command and its application (rounded to whole steps)",
    ),
    (
        "sensor_noise_q",
        "std of additive Gaussian noise on measured positions (rad or m)",
    ),
    (
        "sensor_noise_v",
        "std of additive Gaussian noise on measured velocities (rad/s or m/s)",
    ),
    (
        "sensor_delay",
        "seconds by which observations lag the true state (rounded to whole steps)",
    ),
    (
        "sensor_quantization",
        "position quantisation step of the joint encoders (rad or m); 0 = none",
    ),
    (
        "gravity_tilt",
        "angle (rad) between gravity and -z, about a horizontal axis of uniform random azimuth",
    ),
    (
        "contact_stiffness_scale",
        "multiplier on the ground contact stiffness (default: 1 mm static sinkage under the robot's weight)",
    ),
    (
        "contact_damping_scale",
        "multiplier on the ground contact damping (default: critical for each contact's share of the mass)",
    ),
];

/// A named reality profile: one distribution per parameter of [`PARAMS`].
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub dists: Vec<Dist>,
}

/// One episode's sampled parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeParams {
    pub ground_friction: f64,
    /// Per body.
    pub mass_scale: Vec<f64>,
    /// Per body.
    pub inertia_scale: Vec<f64>,
    pub damping_scale: f64,
    pub joint_friction_scale: f64,
    pub actuator_gain: f64,
    pub actuator_latency: f64,
    pub sensor_noise_q: f64,
    pub sensor_noise_v: f64,
    pub sensor_delay: f64,
    pub sensor_quantization: f64,
    pub gravity_tilt: f64,
    pub contact_stiffness_scale: f64,
    pub contact_damping_scale: f64,
    /// The resulting gravity vector.
    pub gravity: Vec3,
}

fn u(low: f64, high: f64) -> Dist {
    Dist::Uniform { low, high }
}
fn c(v: f64) -> Dist {
    Dist::Const(v)
}

impl Profile {
    /// Build a profile from `(parameter, distribution)` pairs; parameters not given keep the
    /// `default` profile's value.
    pub fn custom(name: &str, description: &str, entries: &[(String, Dist)]) -> SimResult<Profile> {
        let mut p = Profile::builtin("default")?;
        p.name = name.to_string();
        p.description = description.to_string();
        for (param, dist) in entries {
            let idx = PARAMS.iter().position(|(n, _)| n == param).ok_or_else(|| {
                SimError::Invalid(format!(
                    "unknown profile parameter '{param}' (known: {})",
                    PARAMS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                ))
            })?;
            dist.validate(param)?;
            p.dists[idx] = *dist;
        }
        Ok(p)
    }

    pub fn builtin_names() -> &'static [&'static str] {
        &["default", "ideal", "slippery_warehouse", "pseudo_reality_A"]
    }

    pub fn builtin(name: &str) -> SimResult<Profile> {
        let (description, dists) = match name {
            "default" => (
                "Nominal URDF parameters, ground friction 0.9, perfect sensors and actuators.",
                vec![c(0.9), c(1.0), c(1.0), c(1.0), c(1.0), c(1.0), c(0.0), c(0.0), c(0.0), c(0.0), c(0.0), c(0.0), c(1.0), c(1.0)],
            ),
            "ideal" => (
                "Verification profile: no joint damping or friction, perfect sensors and actuators.",
                vec![c(0.9), c(1.0), c(1.0), c(0.0), c(0.0), c(1.0), c(0.0), c(0.0), c(0.0), c(0.0), c(0.0), c(0.0), c(1.0), c(1.0)],
            ),
            "slippery_warehouse" => (
                "Polished or wet concrete: ground friction 0.05-0.15, small mass and damping spread, light sensor noise.",
                vec![
                    u(0.05, 0.15),
                    u(0.95, 1.05),
                    u(0.95, 1.05),
                    u(0.8, 1.2),
                    u(0.8, 1.2),
                    u(0.9, 1.0),
                    u(0.0, 0.004),
                    c(0.002),
                    c(0.02),
                    c(0.0),
                    c(0.0),
                    c(0.0),
                    c(1.0),
                    c(1.0),
                ],
            ),
            "pseudo_reality_A" => (
                "A plausible real robot: +-15% masses, +-20% inertias, 0.5-2x damping and friction, weaker and \
                 late actuators (2-10 ms), noisy, delayed (0-6 ms) 12-bit encoders, up to 0.02 rad gravity tilt.",
                vec![
                    u(0.5, 0.9),
                    u(0.85, 1.15),
                    u(0.8, 1.2),
                    Dist::LogUniform { low: 0.5, high: 2.0 },
                    Dist::LogUniform { low: 0.5, high: 2.0 },
                    u(0.85, 1.05),
                    u(0.002, 0.010),
                    c(0.005),
                    c(0.05),
                    u(0.0, 0.006),
                    c(2.0 * std::f64::consts::PI / 4096.0),
                    u(0.0, 0.02),
                    u(0.7, 1.4),
                    u(0.7, 1.4),
                ],
            ),
            other => {
                return Err(SimError::UnknownProfile {
                    name: other.to_string(),
                    known: Profile::builtin_names().join(", "),
                })
            }
        };
        Ok(Profile {
            name: name.to_string(),
            description: description.to_string(),
            dists,
        })
    }

    /// Sample one episode's parameters for a model with `n_bodies` bodies and nominal gravity `g`.
    pub fn sample(&self, rng: &mut Rng, n_bodies: usize, g: Vec3) -> EpisodeParams {
        let d = &self.dists;
        let ground_friction = d[0].sample(rng).max(0.0);
        let mass_scale = (0..n_bodies).map(|_| d[1].sample(rng).max(0.0)).collect();
        let inertia_scale = (0..n_bodies).map(|_| d[2].sample(rng).max(0.0)).collect();
        let damping_scale = d[3].sample(rng).max(0.0);
        let joint_friction_scale = d[4].sample(rng).max(0.0);
        let actuator_gain = d[5].sample(rng);
        let actuator_latency = d[6].sample(rng).max(0.0);
        let sensor_noise_q = d[7].sample(rng).max(0.0);
        let sensor_noise_v = d[8].sample(rng).max(0.0);
        let sensor_delay = d[9].sample(rng).max(0.0);
        let sensor_quantization = d[10].sample(rng).max(0.0);
        let gravity_tilt = d[11].sample(rng);
        let azimuth = 2.0 * std::f64::consts::PI * rng.uniform();
        // drawn after the older parameters, so their streams are unchanged
        let contact_stiffness_scale = d[12].sample(rng).max(0.0);
        let contact_damping_scale = d[13].sample(rng).max(0.0);
        let gravity = if gravity_tilt != 0.0 {
            let axis = Vec3::new(azimuth.cos(), azimuth.sin(), 0.0);
            Mat3::axis_angle(axis, gravity_tilt).mul_vec(g)
        } else {
            g
        };
        EpisodeParams {
            ground_friction,
            mass_scale,
            inertia_scale,
            damping_scale,
            joint_friction_scale,
            actuator_gain,
            actuator_latency,
            sensor_noise_q,
            sensor_noise_v,
            sensor_delay,
            sensor_quantization,
            gravity_tilt,
            contact_stiffness_scale,
            contact_damping_scale,
            gravity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| Rng::for_episode(42, 3, 0).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut r1 = Rng::for_episode(42, 3, 0);
        let mut r2 = Rng::for_episode(42, 4, 0);
        assert_ne!(r1.next_u64(), r2.next_u64());
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut r = Rng::for_episode(7, 0, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn slippery_profile_samples_within_its_documented_range() {
        let p = Profile::builtin("slippery_warehouse").unwrap();
        for e in 0..100 {
            let mut r = Rng::for_episode(1, e, 0);
            let s = p.sample(&mut r, 3, Vec3::new(0.0, 0.0, -9.81));
            assert!((0.05..=0.15).contains(&s.ground_friction));
            assert!(s.mass_scale.iter().all(|m| (0.95..=1.05).contains(m)));
        }
        assert!(Profile::builtin("nope").is_err());
    }

    #[test]
    fn gravity_tilt_rotates_gravity_by_the_sampled_angle() {
        let p = Profile::custom("t", "", &[("gravity_tilt".into(), Dist::Const(0.1))]).unwrap();
        let s = p.sample(
            &mut Rng::for_episode(3, 0, 0),
            1,
            Vec3::new(0.0, 0.0, -9.81),
        );
        let cos = -s.gravity.z / s.gravity.norm();
        assert!((cos - 0.1f64.cos()).abs() < 1e-12);
        assert!((s.gravity.norm() - 9.81).abs() < 1e-12);
    }
}
