//! Inputs found by (or aimed at) the cargo-fuzz targets in `native/fuzz`: each must be refused with
//! an error, never a panic. A hostile graph file or URDF is user input.

use std::path::PathBuf;

use ridgeline_core::graph::{Graph, GraphError};
use ridgeline_core::sim::Model;

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("rdgl-regress-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A 256-byte graph header: magic, version, endianness probe, n, m, k, flags, slots, time index.
fn header(n: u64, m: u64, k: u32, flags: u32, slots: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(256);
    h.extend_from_slice(b"RDGLGRPH");
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&0x0102_0304u32.to_ne_bytes());
    h.extend_from_slice(&n.to_le_bytes());
    h.extend_from_slice(&m.to_le_bytes());
    h.extend_from_slice(&k.to_le_bytes());
    h.extend_from_slice(&flags.to_le_bytes());
    h.extend_from_slice(&slots.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.resize(256, 0);
    h
}

fn load_err(name: &str, bytes: &[u8]) -> String {
    let p = temp(name, bytes);
    let r = Graph::load(&p);
    std::fs::remove_file(&p).unwrap();
    match r {
        Err(GraphError::BadFile { reason, .. }) => reason,
        Err(e) => panic!("expected BadFile, got {e}"),
        Ok(_) => panic!("a corrupt graph file was accepted"),
    }
}

#[test]
fn profile_section_size_that_overflows_is_an_error() {
    // m * slots * 4 does not fit in usize: the expected section sizes must be computed checked.
    let bytes = header(4, (1 << 31) + 7, 2, 2, u32::MAX);
    assert!(load_err("overflow", &bytes).contains("impossible sizes"));
}

#[test]
fn truncated_and_garbage_headers_are_errors() {
    assert!(load_err("short", b"RDGLGRPH").contains("bad magic"));
    let mut bytes = header(3, 2, 2, 0, 0);
    bytes.truncate(255);
    assert!(load_err("trunc", &bytes).contains("bad magic"));
    // sizes that fit but sections that lie outside the file
    assert!(load_err("outside", &header(3, 2, 2, 0, 0)).contains("outside the file"));
}

#[test]
fn hostile_urdf_is_an_error() {
    for xml in [
        "",
        "<robot/>",
        "<robot name='x'><link name='a'><inertial><mass value='nan'/></inertial></link></robot>",
        "<!DOCTYPE robot [<!ENTITY a 'aaaaaaaaaa'>]><robot name='x'><link name='&a;'/></robot>",
    ] {
        assert!(
            Model::from_urdf_str(xml, false).is_err(),
            "{xml:?} was accepted"
        );
    }
}
