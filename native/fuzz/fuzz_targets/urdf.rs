//! URDF text -> model (what `sim` does with an uploaded robot), then one forward-dynamics pass at
//! rest, because a model the parser accepted must be safe to simulate. Any panic is a bug: the core
//! must answer a hostile file with an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ridgeline_core::sim::dynamics::aba;
use ridgeline_core::sim::{Data, Model};

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    for floating in [false, true] {
        if let Ok(m) = Model::from_urdf_str(xml, floating) {
            let mut d = Data::new(&m);
            let mut q = vec![0.0; m.nq];
            if m.floating_base {
                q[3] = 1.0; // identity quaternion
            }
            let v = vec![0.0; m.nv];
            let mut qdd = vec![0.0; m.nv];
            aba(&m, &mut d, &q, &v, &v, None, &mut qdd);
        }
    }
});
