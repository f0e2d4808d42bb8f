//! Writes the seed corpora: a few valid URDFs and graph files of every flag combination, so the
//! fuzzer starts past the XML parser and the graph header's magic and size checks.
use std::path::Path;

use ridgeline_core::graph::GraphBuilder;

const URDFS: &[&str] = &[
    r#"<robot name="p"><link name="base"/><link name="arm"><inertial><origin xyz="0 0 -0.5"/><mass value="2.0"/>
<inertia ixx="0.01" iyy="0.02" izz="0.03" ixy="0" ixz="0" iyz="0"/></inertial>
<collision><origin xyz="0 0 0" rpy="0 0 0"/><geometry><sphere radius="0.1"/></geometry></collision></link>
<joint name="hinge" type="revolute"><parent link="base"/><child link="arm"/><origin xyz="0 0 1" rpy="0 0 0"/>
<axis xyz="1 0 0"/><limit lower="-3" upper="3" effort="10" velocity="5"/><dynamics damping="0.1" friction="0.2"/></joint></robot>"#,
    r#"<robot name="b"><link name="box"><inertial><origin xyz="0.1 0.2 0.3" rpy="0.1 0.2 0.3"/><mass value="2"/>
<inertia ixx="1" iyy="1" izz="1" ixy="0.1" ixz="0" iyz="0"/></inertial>
<collision><geometry><box size="1 2 3"/></geometry></collision><collision><geometry><cylinder radius="0.2" length="1"/></geometry></collision></link>
<link name="w"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial><collision><geometry><mesh filename="a.stl"/></geometry></collision></link>
<joint name="s" type="prismatic"><parent link="box"/><child link="w"/><axis xyz="0 0 1"/><limit lower="0" upper="1" effort="1" velocity="1"/></joint>
<link name="c"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial></link>
<joint name="f" type="fixed"><parent link="w"/><child link="c"/></joint>
<link name="d"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial></link>
<joint name="r" type="continuous"><parent link="c"/><child link="d"/><axis xyz="0 1 0"/></joint></robot>"#,
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let urdf = root.join("urdf");
    let graph = root.join("graph_file");
    std::fs::create_dir_all(&urdf).unwrap();
    std::fs::create_dir_all(&graph).unwrap();
    for (i, u) in URDFS.iter().enumerate() {
        std::fs::write(urdf.join(format!("seed{i}.urdf")), u).unwrap();
    }
    let tail = [0i64, 0, 1, 2, 3, 1];
    let head = [1i64, 2, 3, 3, 0, 2];
    let costs: Vec<f64> = (0..6 * 2).map(|i| 1.0 + i as f64).collect();
    let coords: Vec<f64> = (0..4 * 2).map(|i| i as f64 * 0.5).collect();
    let profile: Vec<f64> = (0..6 * 3).map(|i| 10.0 + i as f64).collect();
    let variance: Vec<f64> = (0..6).map(|i| 0.1 * i as f64).collect();
    for flags in 0..8u32 {
        let g = GraphBuilder {
            n: Some(4),
            tail: &tail,
            head: &head,
            costs: &costs,
            k: 2,
            coords: (flags & 1 != 0).then_some(&coords[..]),
            profile: (flags & 2 != 0).then_some((&profile[..], 3)),
            variance: (flags & 4 != 0).then_some(&variance[..]),
            time_index: 0,
        }
        .build()
        .unwrap();
        g.save(&graph.join(format!("seed{flags}.rdgl"))).unwrap();
    }
    println!("seeds written under {}", root.display());
}
