//! Tests of the simulation core on synthetic models and, when present, on the real URDFs in
//! `<project root>/../shared/data/sim/urdf`.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use super::dynamics::{aba, cholesky_in_place, crba, energy, rnea, Data};
use super::error::SimError;
use super::model::Model;
use super::profile::{Profile, Rng};
use super::rollout::{
    rollout, rollout_recorded, Controller, Integrator, RolloutConfig, RolloutControl,
};

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
fn recording_in_place_matches_the_per_episode_recording() {
    let m = Model::from_urdf_str(PENDULUM, false).unwrap();
    let prof = Profile::builtin("pseudo_reality_A").unwrap();
    let ctl = Controller::Pd {
        kp: vec![50.0],
        kd: vec![5.0],
    };
    let bits = |x: &[f64]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let mut cfg = RolloutConfig::new(&m, 150, 0.002, 7, 5);
    cfg.q0 = vec![0.4];
    // a start faster than the speed limit stops the episodes at once: their later rows are
    // NaN in both
    for (threads, limit) in [(1, 1e3), (2, 1e3), (1, 2.0), (2, 2.0)] {
        cfg.threads = threads;
        cfg.divergence_velocity = limit;
        cfg.v0 = vec![if limit < 10.0 { 5.0 } else { 1.9 }];
        let a = rollout(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
        let (b, rec) =
            rollout_recorded(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
        assert_eq!(a.iter().any(|r| r.metrics.diverged), limit < 10.0);
        let cat = |f: &dyn Fn(&super::rollout::EpisodeResult) -> &Vec<f64>| {
            a.iter()
                .flat_map(|r| f(r).iter().copied())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&rec.q), bits(&cat(&|r| &r.q)));
        assert_eq!(bits(&rec.v), bits(&cat(&|r| &r.v)));
        assert_eq!(bits(&rec.obs), bits(&cat(&|r| &r.obs)));
        assert_eq!(bits(&rec.actions), bits(&cat(&|r| &r.actions)));
        assert_eq!(bits(&rec.applied), bits(&cat(&|r| &r.applied)));
        for (x, y) in a.iter().zip(&b) {
            assert!(y.q.is_empty() && y.obs.is_empty());
            assert_eq!(x.steps_completed, y.steps_completed);
            assert_eq!(x.params, y.params);
            assert_eq!(x.divergence, y.divergence);
        }
    }
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
                 <inertia ixx='0.03' iyy='0.02' izz='0.01' ixy='0.001' ixz='0' iyz='0.002'/></inertial></link>\
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

// ------------------------------------------------------------------ batches and budgets

fn floating_pendulum() -> String {
    PENDULUM.replace(
        r#"<link name="base"/>"#,
        r#"<link name="base"><inertial><mass value="3"/><inertia ixx="0.1" iyy="0.2" izz="0.25" ixy="0" ixz="0" iyz="0"/></inertial></link>"#,
    )
}

#[test]
fn batched_dynamics_equal_single_calls_for_every_thread_budget() {
    use super::batch::{aba_batch, rnea_batch};
    let m = Model::from_urdf_str(&floating_pendulum(), true).unwrap();
    let mut rng = Rng::for_episode(5, 0, 0);
    let n = 300;
    let (mut q, mut v, mut x) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let (qi, vi, ti) = random_state(&m, &mut rng);
        q.extend(qi);
        v.extend(vi);
        x.extend(ti);
    }
    let mut d = Data::new(&m);
    let mut single_aba = vec![0.0; n * m.nv];
    let mut single_rnea = vec![0.0; n * m.nv];
    for i in 0..n {
        let (qi, vi, xi) = (
            &q[i * m.nq..(i + 1) * m.nq],
            &v[i * m.nv..(i + 1) * m.nv],
            &x[i * m.nv..(i + 1) * m.nv],
        );
        aba(
            &m,
            &mut d,
            qi,
            vi,
            xi,
            None,
            &mut single_aba[i * m.nv..(i + 1) * m.nv],
        );
        rnea(
            &m,
            &mut d,
            qi,
            vi,
            xi,
            None,
            &mut single_rnea[i * m.nv..(i + 1) * m.nv],
        );
    }
    for threads in [0, 1, 2, 3] {
        let mut out = vec![0.0; n * m.nv];
        aba_batch(&m, &q, &v, &x, &mut out, threads).unwrap();
        assert_eq!(out, single_aba, "aba, {threads} threads");
        rnea_batch(&m, &q, &v, &x, &mut out, threads).unwrap();
        assert_eq!(out, single_rnea, "rnea, {threads} threads");
    }
    let mut short = vec![0.0; 3];
    assert!(matches!(
        aba_batch(&m, &q, &v, &x, &mut short, 0),
        Err(SimError::Shape { .. })
    ));
}

// ------------------------------------------------------------------ standing robots

/// A floating-base model of a data URDF; go1's base inertia (rejected as not positive
/// definite) is replaced by a diagonal one, which makes it a Go1-shaped model.
fn floating(name: &str) -> Option<Model> {
    let dir = data_dir()?;
    let mut xml = std::fs::read_to_string(dir.join(name)).unwrap();
    if name == "go1.urdf" {
        xml = xml.replace(
            r#"<inertia ixx="1e-6" ixy="1e-6" ixz="1e-6" iyy="1e-6" iyz="1e-6" izz="1e-6" />"#,
            r#"<inertia ixx="1e-6" ixy="0" ixz="0" iyy="1e-6" iyz="0" izz="1e-6" />"#,
        );
    }
    Some(Model::from_urdf_str(&xml, true).unwrap())
}

const LEGGED: [&str; 4] = ["hyq.urdf", "solo12.urdf", "go1.urdf", "atlas.urdf"];

#[test]
fn the_default_state_rests_on_the_ground_with_joints_inside_their_limits() {
    use super::pose::{check_state, lowest_point, pose};
    for name in LEGGED {
        let Some(m) = floating(name) else { return };
        let q = RolloutConfig::new(&m, 1, 0.001, 0, 1).q0;
        assert_eq!(q, pose(&m, "stand").unwrap());
        let low = lowest_point(&m, &q).unwrap();
        assert!(low.abs() < 1e-12, "{name}: lowest point at {low}");
        check_state(&m, &q, &vec![0.0; m.nv], "q0", "v0", true).unwrap();
        // the neutral pose puts the base at the origin, so the legs are underground
        assert!(lowest_point(&m, &m.neutral()).unwrap() < -0.1, "{name}");
    }
}

/// Base height over 10 s under the default controller (gravity compensation of the stance
/// plus PD at 20 rad/s on the stance inertias, as `PD.stance` builds it in Python).
fn stand_for_10_s(m: &Model) -> (f64, f64, bool) {
    let q0 = super::pose::pose(m, "stand").unwrap();
    let inertia = super::stance::stance_inertias(m, &q0, true);
    let w = 20.0;
    let ctl = Controller::PdGravity {
        kp: inertia.iter().map(|i| w * w * i).collect(),
        kd: inertia.iter().map(|i| 2.0 * w * i).collect(),
    };
    let cfg = RolloutConfig::new(m, 5000, 0.002, 0, 1);
    let prof = Profile::builtin("default").unwrap();
    let r = rollout(m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
    let e = &r[0];
    (e.q[2], e.q[5000 * m.nq + 2], e.metrics.diverged)
}

#[test]
fn legged_robots_stand_still_for_10_s_under_the_default_controller() {
    for name in LEGGED {
        let Some(m) = floating(name) else { return };
        let (z0, z1, diverged) = stand_for_10_s(&m);
        assert!(!diverged, "{name}");
        // settles by the contact's static sinkage (~1 mm) and a little joint compliance
        assert!((z1 - z0).abs() < 0.02, "{name}: base from {z0} to {z1}");
    }
}

#[test]
fn plain_pd_without_gravity_compensation_lets_a_quadruped_sag() {
    // the same gains without the holding torque: the guard the default controller relies on
    let Some(m) = floating("go1.urdf") else {
        return;
    };
    let q0 = super::pose::pose(&m, "stand").unwrap();
    let inertia = super::stance::stance_inertias(&m, &q0, true);
    let ctl = Controller::Pd {
        kp: inertia.iter().map(|i| 400.0 * i).collect(),
        kd: inertia.iter().map(|i| 40.0 * i).collect(),
    };
    let cfg = RolloutConfig::new(&m, 2500, 0.002, 0, 1);
    let prof = Profile::builtin("default").unwrap();
    let r = rollout(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
    let z1 = r[0].q[2500 * m.nq + 2];
    assert!(
        q0[2] - z1 > 0.05 || r[0].metrics.diverged,
        "{} -> {z1}",
        q0[2]
    );
}

#[test]
fn holding_torques_balance_a_standing_quadruped() {
    // the stance's inverse dynamics: the contact forces that the solution implies carry the
    // whole weight, and a fixed base gets plain gravity compensation
    let Some(m) = floating("hyq.urdf") else {
        return;
    };
    let q = super::pose::pose(&m, "stand").unwrap();
    let tau = super::stance::holding_torques(&m, &q, true);
    let hanging = super::stance::holding_torques(&m, &q, false);
    assert_eq!(tau.len(), m.n_actuated());
    assert!(tau.iter().zip(&hanging).any(|(a, b)| (a - b).abs() > 1.0));
    let fixed = Model::from_urdf_str(PENDULUM, false).unwrap();
    let t = super::stance::holding_torques(&fixed, &[0.3], true);
    assert!(
        (t[0] - 2.0 * 9.81 * 0.5 * 0.3f64.sin()).abs() < 1e-9,
        "{t:?}"
    );
}

// ------------------------------------------------------------------ divergence envelope

#[test]
fn a_robot_started_inside_the_ground_is_reported_diverged() {
    let Some(m) = floating("atlas.urdf") else {
        return;
    };
    let mut cfg = RolloutConfig::new(&m, 500, 0.002, 0, 1);
    cfg.q0 = m.neutral(); // legs 0.4-0.9 m underground: the contact springs launch it
    let prof = Profile::builtin("default").unwrap();
    let ctl = Controller::Zero;
    let r = rollout(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
    assert!(r[0].metrics.diverged && !r[0].metrics.success);
    assert!(r[0].divergence.is_some());
}

#[test]
fn energy_growth_velocity_limits_and_bounds_are_detected() {
    use super::rollout::Divergence;
    let prof = Profile::builtin("ideal").unwrap();
    // a passive pendulum faster than 10x its 5 rad/s URDF limit
    let m = Model::from_urdf_str(PENDULUM, false).unwrap();
    let mut cfg = RolloutConfig::new(&m, 50, 0.001, 0, 1);
    cfg.v0 = vec![52.0];
    cfg.joint_limits = false;
    let run = |cfg: &RolloutConfig, m: &Model| {
        rollout(
            m,
            &prof,
            &Controller::Zero,
            None,
            cfg,
            &RolloutControl::default(),
        )
        .unwrap()
    };
    assert_eq!(run(&cfg, &m)[0].divergence, Some(Divergence::VelocityLimit));
    cfg.velocity_limit_factor = 12.0;
    assert_eq!(run(&cfg, &m)[0].divergence, None);
    // a ball released 0.2 m inside the ground gains energy from the contact spring
    let ball = Model::from_urdf_str(BALL, true).unwrap();
    let mut cfg = RolloutConfig::new(&ball, 400, 0.001, 0, 1);
    cfg.q0[2] = -0.15;
    assert_eq!(
        run(&cfg, &ball)[0].divergence,
        Some(Divergence::EnergyGrowth)
    );
    cfg.energy_growth = f64::INFINITY;
    assert_ne!(
        run(&cfg, &ball)[0].divergence,
        Some(Divergence::EnergyGrowth)
    );
    // a free-flying ball leaving its 1 m bounding volume
    let mut cfg = RolloutConfig::new(&ball, 400, 0.001, 0, 1);
    cfg.contact = false;
    cfg.v0[0] = 5.0;
    cfg.base_bound = 1.0;
    let r = run(&cfg, &ball);
    assert_eq!(r[0].divergence, Some(Divergence::BaseBounds));
    assert!(!r[0].metrics.success && r[0].steps_completed < 400);
}

#[test]
fn velocity_limits_also_limit_the_actuator() {
    // a full-effort push on a wheel: it cannot be driven much past its 5 rad/s limit
    let wheel = r#"<robot name="w"><link name="a"/><link name="b"><inertial><mass value="1"/>
        <inertia ixx="0.05" iyy="0.05" izz="0.05" ixy="0" ixz="0" iyz="0"/></inertial></link>
        <joint name="j" type="continuous"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/>
        <limit effort="10" velocity="5"/></joint></robot>"#;
    let m = Model::from_urdf_str(wheel, false).unwrap();
    let mut cfg = RolloutConfig::new(&m, 400, 0.001, 0, 1);
    cfg.joint_limits = false;
    let prof = Profile::builtin("ideal").unwrap();
    let ctl = Controller::OpenLoop {
        torques: vec![10.0; 400],
        per_episode: false,
    };
    let r = rollout(&m, &prof, &ctl, None, &cfg, &RolloutControl::default()).unwrap();
    let vmax = r[0].v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    assert!(vmax > 5.0 && vmax < 5.0 * 1.2, "{vmax}");
}

// ------------------------------------------------------------------ contact defaults

const BALL: &str = r#"<robot name="ball"><link name="ball">
  <inertial><mass value="1"/><inertia ixx="0.001" iyy="0.001" izz="0.001" ixy="0" ixz="0" iyz="0"/></inertial>
  <collision><geometry><sphere radius="0.05"/></geometry></collision></link></robot>"#;

#[test]
fn a_dropped_ball_penetrates_the_ground_by_about_a_centimetre() {
    let m = Model::from_urdf_str(BALL, true).unwrap();
    let mut cfg = RolloutConfig::new(&m, 1500, 0.001, 0, 1);
    assert!(cfg.q0[2].abs() - 0.05 < 1e-12); // resting: centre one radius up
    cfg.q0[2] = 1.05; // dropped from 1 m
    let prof = Profile::builtin("default").unwrap();
    let r = rollout(
        &m,
        &prof,
        &Controller::Zero,
        None,
        &cfg,
        &RolloutControl::default(),
    )
    .unwrap();
    let zmin = (0..=1500)
        .map(|k| r[0].q[k * m.nq + 2])
        .fold(f64::INFINITY, f64::min);
    let depth = 0.05 - zmin;
    // critically damped at 99 rad/s: v0 / (w e) = 4.43 / 269 = 1.6 cm, plus 1 mm static
    assert!(depth > 0.005 && depth < 0.025, "{depth}");
    let rest = 0.05 - r[0].q[1500 * m.nq + 2];
    assert!(
        (rest - super::contact::STATIC_SINKAGE).abs() < 3e-4,
        "{rest}"
    );
    // a profile can make the ground softer
    let soft = Profile::custom(
        "soft",
        "",
        &[(
            "contact_stiffness_scale".into(),
            super::profile::Dist::Const(0.25),
        )],
    )
    .unwrap();
    let r = rollout(
        &m,
        &soft,
        &Controller::Zero,
        None,
        &cfg,
        &RolloutControl::default(),
    )
    .unwrap();
    let rest_soft = 0.05 - r[0].q[1500 * m.nq + 2];
    assert!(
        (rest_soft - 4.0 * super::contact::STATIC_SINKAGE).abs() < 1e-3,
        "{rest_soft}"
    );
}

// ------------------------------------------------------------------ results and validation

#[test]
fn episodes_cancelled_before_their_first_step_are_not_started() {
    let m = Model::from_urdf_str(PENDULUM, false).unwrap();
    let prof = Profile::builtin("default").unwrap();
    let cfg = RolloutConfig::new(&m, 100, 0.001, 1, 3);
    let ctl = RolloutControl::default();
    ctl.cancel.store(true, Ordering::Relaxed);
    let r = rollout(&m, &prof, &Controller::Zero, None, &cfg, &ctl).unwrap();
    for e in &r {
        assert!(!e.started && e.metrics.tracking_rmse.is_nan());
    }
    let r = rollout(
        &m,
        &prof,
        &Controller::Zero,
        None,
        &cfg,
        &RolloutControl::default(),
    )
    .unwrap();
    assert!(r
        .iter()
        .all(|e| e.started && e.metrics.tracking_rmse.is_finite()));
}

#[test]
fn states_and_recordings_are_checked_naming_the_field() {
    use super::pose::check_state;
    use super::rollout::{validate, MAX_RECORDED_BYTES};
    let m = Model::from_urdf_str(&floating_pendulum(), true).unwrap();
    let field_of = |e: SimError| match e {
        SimError::Field { field, reason } => format!("{field}: {reason}"),
        other => panic!("{other:?}"),
    };
    let mut q = m.neutral();
    q[6] = 2.0;
    let e = field_of(check_state(&m, &q, &[0.0; 7], "initial_q", "initial_v", true).unwrap_err());
    assert!(e.starts_with("initial_q: the base quaternion"), "{e}");
    let mut q = m.neutral();
    q[7] = 3.5;
    let e = field_of(check_state(&m, &q, &[0.0; 7], "initial_q", "initial_v", true).unwrap_err());
    assert!(
        e.contains("joint 'hinge'") && e.contains("outside its limits"),
        "{e}"
    );
    check_state(&m, &q, &[0.0; 7], "initial_q", "initial_v", false).unwrap();
    let e = field_of(
        check_state(&m, &m.neutral(), &[f64::NAN; 7], "q", "initial_v", true).unwrap_err(),
    );
    assert!(e.starts_with("initial_v: value 0 is not finite"), "{e}");
    let e = field_of(check_state(&m, &[0.0; 3], &[0.0; 7], "initial_q", "v", true).unwrap_err());
    assert!(e.starts_with("initial_q: expected length 8, got 3"), "{e}");
    assert!(super::pose::pose(&m, "crouch").is_err());
    // one recording limit, in the core
    let mut cfg = RolloutConfig::new(&m, 1_000_000, 0.001, 0, 64);
    let bytes = super::rollout::recorded_bytes(&m, cfg.steps, cfg.episodes);
    assert!(bytes > MAX_RECORDED_BYTES as u128);
    let e = field_of(validate(&m, &Controller::Zero, None, &cfg).unwrap_err());
    assert!(e.starts_with("record:"), "{e}");
    cfg.record = false;
    validate(&m, &Controller::Zero, None, &cfg).unwrap();
}

#[test]
fn urdf_values_that_are_not_physical_are_refused_naming_the_link_or_joint() {
    let joint = |dynamics: &str| {
        format!(
            r#"<robot name="r"><link name="a"/><link name="b"><inertial><mass value="1"/>
            <inertia ixx="0.1" iyy="0.1" izz="0.1" ixy="0" ixz="0" iyz="0"/></inertial></link>
            <joint name="j" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/>
            <limit lower="-1" upper="1" effort="1" velocity="1"/>{dynamics}</joint></robot>"#
        )
    };
    for dynamics in [
        r#"<dynamics damping="-0.1"/>"#,
        r#"<dynamics friction="-2"/>"#,
    ] {
        match err_of(&joint(dynamics)) {
            SimError::BadJoint { joint, reason } => {
                assert_eq!(joint, "j");
                assert!(reason.contains("negative"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    let link = |inertial: &str| {
        format!(
            r#"<robot name="r"><link name="a"/><link name="b"><inertial>{inertial}</inertial></link>
            <joint name="j" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/></joint></robot>"#
        )
    };
    for (inertial, says) in [
        (
            r#"<mass value="1"/><inertia ixx="0.1" iyy="0.1" izz="0.5" ixy="0" ixz="0" iyz="0"/>"#,
            "triangle inequality",
        ),
        (
            r#"<mass value="5e7"/><inertia ixx="0.1" iyy="0.1" izz="0.1" ixy="0" ixz="0" iyz="0"/>"#,
            "absurd",
        ),
        (
            r#"<mass value="-1"/><inertia ixx="0.1" iyy="0.1" izz="0.1" ixy="0" ixz="0" iyz="0"/>"#,
            "negative mass",
        ),
    ] {
        match err_of(&link(inertial)) {
            SimError::BadLink { link, reason } => {
                assert_eq!(link, "b");
                assert!(reason.contains(says), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // every data URDF but go1 still loads
    for (name, xml) in good_urdfs() {
        Model::from_urdf_str(&xml, false).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
