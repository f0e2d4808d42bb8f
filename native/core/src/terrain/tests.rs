use proptest::prelude::*;

use super::*;

fn grid() -> Dem {
    // 4 x 3 grid, 1-unit pixels, origin corner at (0, 3): centres at x = 0.5.., y = 2.5..
    let data = vec![0., 1., 2., 3., 10., 11., 12., 13., 20., 21., -9999., 23.];
    Dem::new(
        4,
        3,
        [0.0, 1.0, 0.0, 3.0, 0.0, -1.0],
        data,
        Some(-9999.0),
        false,
    )
    .unwrap()
}

#[test]
fn sample_at_centres_and_between() {
    let d = grid();
    assert_eq!(d.sample(0.5, 2.5), 0.0);
    assert_eq!(d.sample(3.5, 0.5), 23.0);
    assert_eq!(d.sample(1.0, 2.5), 0.5);
    assert_eq!(d.sample(1.0, 2.0), 5.5);
    assert!(d.sample(0.4, 2.5).is_nan());
    assert!(d.sample(f64::NAN, 2.5).is_nan());
    // Next to the nodata sample (col 2, row 2).
    assert!(d.sample(2.0, 1.0).is_nan());
    // On the grid line of known samples only: nodata has zero weight.
    assert_eq!(d.sample(1.5, 1.0), 16.0);
    assert_eq!(d.nodata_count(), 1);
}

#[test]
fn profile_spacing_and_stats() {
    let data: Vec<f32> = (0..100).map(|i| (i % 10) as f32).collect();
    let d = Dem::new(10, 10, [0.0, 1.0, 0.0, 10.0, 0.0, -1.0], data, None, false).unwrap();
    let p = d.profile(&[0.5, 9.5], &[5.5, 5.5], 2.0).unwrap();
    assert_eq!(p.distance, vec![0.0, 2.0, 4.0, 6.0, 8.0, 9.0]);
    assert_eq!(p.z, vec![0.0, 2.0, 4.0, 6.0, 8.0, 9.0]);
    let e = d
        .edge_terrain(
            &[0.5, 9.5, 9.5, 0.5],
            &[5.5, 5.5, 5.5, 5.5],
            &[0, 2, 4],
            1.0,
        )
        .unwrap();
    assert_eq!(e[0].ascent, 9.0);
    assert_eq!(e[0].descent, 0.0);
    assert_eq!(e[1].descent, 9.0);
    assert!((e[0].grade - 1.0).abs() < 1e-12 && (e[1].grade + 1.0).abs() < 1e-12);
    assert!((e[1].max_grade - 1.0).abs() < 1e-12);
    assert_eq!(e[0].coverage, 1.0);
}

#[test]
fn tile_names() {
    assert_eq!(parse_tile_name("N42E001.hgt"), Some((42, 1)));
    assert_eq!(parse_tile_name("s05w073.hgt.zip"), Some((-5, -73)));
    assert_eq!(parse_tile_name("X42E001.hgt"), None);
    assert_eq!(parse_tile_name("N4xE001.hgt"), None);
}

#[test]
fn unreadable_tiles_are_errors() {
    let dir = std::env::temp_dir();
    let p = dir.join(format!("N10E010-{}.hgt", std::process::id()));
    std::fs::write(&p, [0u8; 100]).unwrap();
    let e = Dem::from_hgt(&[&p]).unwrap_err().to_string();
    assert!(e.contains("neither an SRTM3"), "{e}");
    std::fs::remove_file(&p).unwrap();
    let e = Dem::from_hgt(&[dir.join("N10E010-missing.hgt")]).unwrap_err();
    assert!(matches!(e, TerrainError::Io { .. }));
}

proptest! {
    #[test]
    fn bilinear_is_within_corner_range(x in -1.0f64..5.0, y in -1.0f64..4.0) {
        let d = grid();
        let v = d.sample(x, y);
        if !v.is_nan() {
            prop_assert!((0.0..=23.0).contains(&v));
        } else {
            let inside = (0.5..=3.5).contains(&x) && (0.5..=2.5).contains(&y);
            prop_assert!(!inside || (x > 1.5 && y < 1.5));
        }
    }
}
