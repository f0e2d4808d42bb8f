//! Tests of the simulation core on synthetic models and, when present, on the real URDFs in
//! `<project root>/../shared/data/sim/urdf`.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use super::dynamics::{aba, cholesky_in_place, crba, energy, rnea, Data};
use super::error::SimError;
use super::model::Model;
use super::profile::{Profile, Rng};
use super::rollout::{rollout, Controller, Integrator, RolloutConfig, RolloutControl};

fn data_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sim/urdf");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipping: real URDFs not found at {}", d.display());
        None
    }
}

fn good_urdfs() -> Vec<(String, String)> {
    let Some(dir) = data_dir() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".urdf") && name != "go1.urdf" {
            out.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    out.sort();
    out
}

const PENDULUM: &str = r#"<robot name="p">
  <link name="base"/>
  <link name="arm"><inertial><origin xyz="0 0 -0.5"/><mass value="2.0"/>
    <inertia ixx="0.01" iyy="0.02" izz="0.03" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="hinge" type="revolute"><parent link="base"/><child link="arm"/>
    <origin xyz="0 0 1" rpy="0 0 0"/><axis xyz="1 0 0"/><limit lower="-3" upper="3" effort="10" velocity="5"/></joint>
</robot>"#;

fn random_state(m: &Model, rng: &mut Rng) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut q: Vec<f64> = (0..m.nq).map(|_| 2.0 * rng.uniform() - 1.0).collect();
    if m.floating_base {
        let n = (q[3] * q[3] + q[4] * q[4] + q[5] * q[5] + q[6] * q[6]).sqrt();
        for x in q[3..7].iter_mut() {
            *x /= n;
        }
    }
    let v = (0..m.nv).map(|_| 2.0 * rng.uniform() - 1.0).collect();
    let t = (0..m.nv)
        .map(|_| 10.0 * (2.0 * rng.uniform() - 1.0))
        .collect();
    (q, v, t)
}

#[test]
fn pendulum_matches_the_closed_form() {
    let m = Model::from_urdf_str(PENDULUM, false).unwrap();
    assert_eq!(m.nq, 1);
    assert_eq!(m.joint_names(), vec!["hinge"]);
    let mut d = Data::new(&m);
    for &(q, v, tau) in &[(0.3, 0.0, 0.0), (-1.2, 2.0, 1.5), (2.5, -1.0, -3.0)] {
        let mut qdd = [0.0];
        aba(&m, &mut d, &[q], &[v], &[tau], None, &mut qdd);
        // inertia about the hinge: Ixx + m l^2; gravity torque: the COM hangs 0.5 below the hinge
        let inertia = 0.01 + 2.0 * 0.25;
        let grav = -2.0 * 9.81 * 0.5 * f64::sin(q);
        let want = (tau + grav) / inertia;
        assert!((qdd[0] - want).abs() < 1e-12, "{} vs {}", qdd[0], want);
    }
}

fn check_identities(m: &Model, name: &str, seed: u64) {
    let mut d = Data::new(m);
    let mut rng = Rng::for_episode(seed, 0, 0);
    let nv = m.nv;
    for _ in 0..5 {
        let (q, v, tau) = random_state(m, &mut rng);
        let mut qdd = vec![0.0; nv];
        aba(m, &mut d, &q, &v, &tau, None, &mut qdd);
        let mut back = vec![0.0; nv];
        rnea(m, &mut d, &q, &v, &qdd, None, &mut back);
        let scale = tau.iter().fold(1.0f64, |a, x| a.max(x.abs()));
        for j in 0..nv {
            assert!(
                (back[j] - tau[j]).abs() < 1e-8 * scale,
                "{name}: RNEA(ABA) dof {j}: {} vs {}",
                back[j],
                tau[j]
            );
        }
        let mut mm = vec![0.0; nv * nv];
        crba(m, &mut d, &q, &mut mm);
        // CRBA agrees with RNEA columns: M e_j = rnea(q, 0, e_j) - rnea(q, 0, 0), gravity off
        let mut g0 = m.clone();
        g0.gravity = super::math::Vec3::ZERO;
        let zero = vec![0.0; nv];
        for j in 0..nv {
            let mut e = vec![0.0; nv];
            e[j] = 1.0;
            let mut col = vec![0.0; nv];
            rnea(&g0, &mut d, &q, &zero, &e, None, &mut col);
            for i in 0..nv {
                assert!(
                    (col[i] - mm[i * nv + j]).abs() < 1e-9 * (1.0 + mm[j * nv + j].abs()),
                    "{name}: M[{i},{j}]"
                );
                assert!(
                    (mm[i * nv + j] - mm[j * nv + i]).abs() < 1e-12 * (1.0 + mm[j * nv + j].abs()),
                    "{name}: symmetry"
                );
            }
        }
        assert!(
            cholesky_in_place(&mut mm, nv, 0.0).is_ok(),
            "{name}: M not positive definite"
        );
    }
}

#[test]
fn dynamics_identities_hold_on_every_real_urdf() {
    for (name, text) in good_urdfs() {
        for floating in [false, true] {
            let m = match Model::from_urdf_str(&text, floating) {
                Ok(m) => m,
                // arms rooted at a massless "world" link cannot float: that must be the reason
                Err(e) if floating && e.to_string().contains("has no mass, so this joint") => {
                    continue
                }
                Err(e) => panic!("{name} floating={floating}: {e}"),
            };
            check_identities(&m, &format!("{name} floating={floating}"), 11);
        }
    }
}

#[test]
fn dynamics_identities_hold_on_a_floating_pendulum() {
    let err = Model::from_urdf_str(PENDULUM, true).unwrap_err();
    assert!(
        err.to_string()
            .contains("floating base link 'base' has no mass"),
        "{err}"
    );
    let heavy = PENDULUM.replace(
        "<link name=\"base\"/>",
        "<link name=\"base\"><inertial><mass value=\"3\"/><inertia ixx=\"0.1\" iyy=\"0.2\" izz=\"0.3\"/></inertial></link>",
    );
    let m = Model::from_urdf_str(&heavy, true).unwrap();
    assert_eq!((m.nq, m.nv), (8, 7));
    check_identities(&m, "pendulum", 5);
}

#[test]
fn joint_order_is_depth_first_in_document_order() {
    let xml = r#"<robot name="t">
      <link name="r"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial></link>
      <link name="a"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial></link>
      <link name="a2"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial></link>
      <link name="b"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial></link>
      <link name="b2"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial></link>
      <link name="f"/>
      <joint name="jb" type="revolute"><parent link="r"/><child link="b"/><axis xyz="0 0 1"/></joint>
      <joint name="ja" type="prismatic"><parent link="r"/><child link="a"/><axis xyz="0 1 0"/></joint>
      <joint name="jfix" type="fixed"><parent link="b"/><child link="f"/></joint>
      <joint name="jb2" type="continuous"><parent link="f"/><child link="b2"/></joint>
      <joint name="ja2" type="revolute"><parent link="a"/><child link="a2"/></joint>
    </robot>"#;
    let m = Model::from_urdf_str(xml, false).unwrap();
    assert_eq!(m.joint_names(), vec!["jb", "jb2", "ja", "ja2"]);
    let parents: Vec<Option<usize>> = m.bodies.iter().map(|b| b.parent).collect();
    assert_eq!(parents, vec![None, Some(0), None, Some(2)]);
}

fn err_of(xml: &str) -> SimError {
    Model::from_urdf_str(xml, false).expect_err("the model should be rejected")
}

#[test]
fn bad_models_get_errors_naming_the_link_or_joint() {
    let e = err_of("<robot name='x'><link name='a'></robot>");
    assert!(matches!(e, SimError::Xml(_)), "{e}");
    let e = err_of(
        "<robot name='x'><link name='a'/><link name='b'/><joint name='j' type='hinge'><parent link='a'/><child link='b'/></joint></robot>",
    );
    assert_eq!(
        e,
        SimError::UnknownJointType {
            joint: "j".into(),
            kind: "hinge".into()
        }
    );
    let e = err_of(
        "<robot name='x'><link name='a'/><link name='b'/><joint name='j' type='fixed'><parent link='ghost'/><child link='b'/></joint></robot>",
    );
    assert!(
        e.to_string().contains("'j'") && e.to_string().contains("'ghost'"),
        "{e}"
    );
    let cyc = "<robot name='x'><link name='r'/><link name='a'><inertial><mass value='1'/><inertia ixx='1' iyy='1' izz='1'/></inertial></link>\
        <link name='b'><inertial><mass value='1'/><inertia ixx='1' iyy='1' izz='1'/></inertial></link>\
        <joint name='ab' type='revolute'><parent link='a'/><child link='b'/></joint>\
        <joint name='ba' type='revolute'><parent link='b'/><child link='a'/></joint></robot>";
    let e = err_of(cyc);
    assert!(matches!(e, SimError::Cycle { .. }), "{e}");
    assert!(
        e.to_string().contains("'ab'") || e.to_string().contains("'ba'"),
        "{e}"
    );
    let e = err_of(
        "<robot name='x'><link name='a'><inertial><mass value='1'/><inertia ixx='1' iyy='-1' izz='1'/></inertial></link></robot>",
    );
    assert!(
        e.to_string().contains("link 'a'") && e.to_string().contains("positive definite"),
        "{e}"
    );
    // a joint that moves nothing makes the mass matrix singular
    let e = err_of(
        "<robot name='x'><link name='a'/><link name='b'/><joint name='empty' type='revolute'><parent link='a'/><child link='b'/></joint></robot>",
    );
    assert!(e.to_string().contains("'empty'"), "{e}");
}

#[test]
fn go1_is_rejected_for_its_inertia() {
    let Some(dir) = data_dir() else { return };
    let e = Model::from_urdf_file(dir.join("go1.urdf").to_str().unwrap(), true).unwrap_err();
    assert!(
        matches!(&e, SimError::BadLink { link, .. } if link == "base"),
        "{e}"
    );
}

fn passive_energy_drift(m: &Model, integrator: Integrator, dt: f64, steps: usize) -> f64 {
    let mut cfg = RolloutConfig::new(m, steps, dt, 1, 1);
    cfg.integrator = integrator;
    cfg.threads = 1;
    cfg.record = false;
    let mut rng = Rng::for_episode(99, 0, 0);
    let (q, v, _) = random_state(m, &mut rng);
    cfg.q0 = q;
    cfg.v0 = v;
    // no limits: a hard stop removes energy
    cfg.joint_limits = false;
    let free = m.clone();
    let prof = Profile::builtin("ideal").unwrap();
    let res = rollout(
        &free,
        &prof,
        &Controller::Zero,
        None,
        &cfg,
        &RolloutControl::default(),
    )
    .unwrap();
    let mt = &res[0].metrics;
    assert!(!mt.diverged);
    (mt.final_mechanical_energy - mt.initial_mechanical_energy).abs()
}

#[test]
fn rk4_conserves_energy_to_fourth_order() {
    let m = Model::from_urdf_str(PENDULUM, false).unwrap();
    let coarse = passive_energy_drift(&m, Integrator::Rk4, 4e-3, 250);
    let fine = passive_energy_drift(&m, Integrator::Rk4, 2e-3, 500);
    assert!(fine < 1e-8, "{fine}");
    assert!(coarse / fine > 10.0, "{coarse} {fine}");
    let mut d = Data::new(&m);
    let (t, p) = energy(&m, &mut d, &[0.0], &[1.0]);
    assert!((t - 0.5 * 0.51).abs() < 1e-12 && (p - 2.0 * 9.81 * 0.5).abs() < 1e-12);
}

#[test]
fn rollouts_replay_bit_for_bit_and_ignore_thread_count() {
    let m = Model::from_urdf_str(PENDULUM, false).unwrap();
    let prof = Profile::builtin("pseudo_reality_A").unwrap();
    let ctl = Controller::Pd {
        kp: vec![50.0],
        kd: vec![5.0],
    };
    let mut cfg = RolloutConfig::new(&m, 200, 0.002, 42, 6);
    cfg.q0 = vec![0.4];
    let a = rollout(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
    cfg.threads = 1;
    let b = rollout(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            x.q.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
            y.q.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(
            x.obs.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
            y.obs.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(x.params, y.params);
    }
    // different episodes draw different parameters
    assert_ne!(a[0].params, a[1].params);
    cfg.seed = 43;
    let c = rollout(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
    assert_ne!(a[0].params, c[0].params);
}

#[test]
fn a_cancelled_rollout_stops_stepping() {
    let m = Model::from_urdf_str(PENDULUM, false).unwrap();
    let prof = Profile::builtin("default").unwrap();
    let cfg = RolloutConfig::new(&m, 1000, 0.001, 1, 3);
    let ctl = RolloutControl::default();
    ctl.cancel.store(true, Ordering::Relaxed);
    let r = rollout(&m, &prof, &Controller::Zero, None, &cfg, &ctl).unwrap();
    assert!(r
        .iter()
        .all(|e| e.cancelled && e.steps_completed == 0 && !e.metrics.success));
    assert_eq!(ctl.steps_done.load(Ordering::Relaxed), 0);
}

#[test]
fn pd_control_tracks_a_hold_reference() {
    let m = Model::from_urdf_str(PENDULUM, false).unwrap();
    let prof = Profile::builtin("default").unwrap();
    for ctl in [
        Controller::Pd {
            kp: vec![400.0],
            kd: vec![40.0],
        },
        Controller::ComputedTorque {
            kp: vec![400.0],
            kd: vec![40.0],
        },
    ] {
        let mut cfg = RolloutConfig::new(&m, 2000, 0.001, 1, 1);
        cfg.q0 = vec![0.2];
        cfg.success_tolerance = 0.05;
        let r = rollout(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
        let last = r[0].q[2000];
        // PD leaves a gravity offset tau_g / kp; computed torque cancels gravity
        let tol = if matches!(ctl, Controller::Pd { .. }) {
            2.0 * 9.81 * 0.5 * 0.2f64.sin() / 400.0 + 0.01
        } else {
            1e-6
        };
        assert!((last - 0.2).abs() < tol, "{ctl:?}: {last}");
        assert!(r[0].metrics.success);
    }
}

#[test]
fn a_free_body_falls_with_gravity_and_has_its_own_mass() {
    let xml = r#"<robot name="b"><link name="box"><inertial><origin xyz="0.1 0.2 0.3"/><mass value="2"/>
        <inertia ixx="0.1" iyy="0.2" izz="0.3" ixy="0" ixz="0" iyz="0"/></inertial></link></robot>"#;
    let m = Model::from_urdf_str(xml, true).unwrap();
    let mut d = Data::new(&m);
    let mut mm = vec![0.0; 36];
    let q = [0.0, 0.0, 1.0, 0.0, 0.0, (0.35f64).sin(), (0.35f64).cos()];
    crba(&m, &mut d, &q, &mut mm);
    for i in 0..3 {
        assert!(
            (mm[i * 6 + i] - 2.0).abs() < 1e-12,
            "translational mass {}",
            mm[i * 6 + i]
        );
    }
    // at rest the centre of mass accelerates with g; the base origin too (no rotation)
    let mut qdd = [0.0; 6];
    aba(&m, &mut d, &q, &[0.0; 6], &[0.0; 6], None, &mut qdd);
    let rot = super::math::Quat::new(q[3], q[4], q[5], q[6]).to_mat();
    let g_body = rot.tr_mul_vec(super::math::Vec3::new(0.0, 0.0, -9.81));
    for (k, want) in g_body.to_array().iter().enumerate() {
        assert!((qdd[k] - want).abs() < 1e-12, "{k}: {} vs {want}", qdd[k]);
    }
    for w in &qdd[3..] {
        assert!(w.abs() < 1e-12);
    }
}

mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// (parent index, prismatic?, origin, axis, mass) of one joint of a random tree.
    type JointSpec = (usize, bool, [f64; 3], [f64; 3], f64);

    /// A random branched tree of revolute and prismatic joints as URDF text.
    fn tree_urdf(spec: &[JointSpec]) -> String {
        let mut s = String::from("<robot name='r'><link name='l0'/>");
        for (i, (parent, prismatic, xyz, axis, mass)) in spec.iter().enumerate() {
            let p = parent % (i + 1);
            s += &format!(
                "<link name='l{c}'><inertial><origin xyz='{} {} {}' rpy='{} 0.2 {}'/><mass value='{mass}'/>\
                 <inertia ixx='0.03' iyy='0.025' izz='0.02' ixy='0.001' ixz='0' iyz='0.002'/></inertial></link>\
                 <joint name='j{c}' type='{}'><parent link='l{p}'/><child link='l{c}'/>\
                 <origin xyz='{} {} {}' rpy='{} {} {}'/><axis xyz='{} {} {}'/></joint>",
                xyz[1], xyz[2], xyz[0], xyz[0], xyz[1],
                if *prismatic { "prismatic" } else { "revolute" },
                xyz[0], xyz[1], xyz[2], axis[2], axis[0], axis[1],
                axis[0], axis[1], axis[2] + 1.5,
                c = i + 1,
            );
        }
        s + "</robot>"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn random_trees_satisfy_the_dynamics_identities(
            spec in prop::collection::vec(
                (0usize..8, any::<bool>(), prop::array::uniform3(-0.5f64..0.5), prop::array::uniform3(-1.0f64..1.0), 0.1f64..5.0),
                1..9,
            ),
            floating in any::<bool>(),
            seed in 0u64..1000,
        ) {
            let m = Model::from_urdf_str(&tree_urdf(&spec), false).unwrap();
            check_identities(&m, "random tree", seed);
            if floating {
                let heavy = tree_urdf(&spec).replace(
                    "<link name='l0'/>",
                    "<link name='l0'><inertial><mass value='3'/><inertia ixx='0.1' iyy='0.2' izz='0.3'/></inertial></link>",
                );
                let mf = Model::from_urdf_str(&heavy, true).unwrap();
                check_identities(&mf, "random floating tree", seed);
            }
        }
    }
}
