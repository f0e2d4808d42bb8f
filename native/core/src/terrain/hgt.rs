//! SRTM `.hgt` tiles: 16-bit big-endian signed samples, square, row 0 on the north edge.

use std::io::Read;
use std::path::Path;

use super::{Result, TerrainError};

/// The SRTM void value.
pub const HGT_NODATA: i16 = -32768;

/// One decoded tile.
#[derive(Debug, Clone)]
pub struct HgtTile {
    pub name: String,
    /// Latitude and longitude of the south-west corner.
    pub lat: i32,
    pub lon: i32,
    /// Samples per side (1201 for SRTM3, 3601 for SRTM1).
    pub size: usize,
    pub data: Vec<i16>,
}

/// Parses `N42E001` (case-insensitive) at the start of a file name into `(lat, lon)`.
pub fn parse_tile_name(name: &str) -> Option<(i32, i32)> {
    let b = name.as_bytes();
    if b.len() < 7 {
        return None;
    }
    let ns = match b[0].to_ascii_uppercase() {
        b'N' => 1,
        b'S' => -1,
        _ => return None,
    };
    let ew = match b[3].to_ascii_uppercase() {
        b'E' => 1,
        b'W' => -1,
        _ => return None,
    };
    let lat: i32 = std::str::from_utf8(&b[1..3]).ok()?.parse().ok()?;
    let lon: i32 = std::str::from_utf8(&b[4..7]).ok()?.parse().ok()?;
    if lat > 90 || lon > 180 || !b[1..3].iter().chain(&b[4..7]).all(u8::is_ascii_digit) {
        return None;
    }
    Some((ns * lat, ew * lon))
}

fn base_name(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// Reads a plain or zipped `.hgt` tile; the tile position comes from the file (or entry) name.
pub fn read_hgt_tile(path: &Path) -> Result<HgtTile> {
    let shown = path.display().to_string();
    let bad = |reason: String| TerrainError::BadTile {
        path: shown.clone(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| TerrainError::Io {
        path: shown.clone(),
        source,
    })?;
    let fname = base_name(&shown).to_string();
    let mut magic = [0u8; 4];
    let is_zip = {
        let mut f = &file;
        let n = f.read(&mut magic).map_err(|source| TerrainError::Io {
            path: shown.clone(),
            source,
        })?;
        n == 4 && magic == *b"PK\x03\x04"
    };
    let (name, bytes) = if is_zip {
        let mut zip =
            zip::ZipArchive::new(file).map_err(|e| bad(format!("bad zip archive: {e}")))?;
        let idx = (0..zip.len())
            .find(|&i| {
                zip.name_for_index(i)
                    .is_some_and(|n| n.to_ascii_lowercase().ends_with(".hgt"))
            })
            .ok_or_else(|| bad("the zip archive holds no .hgt file".into()))?;
        let mut entry = zip
            .by_index(idx)
            .map_err(|e| bad(format!("bad zip entry: {e}")))?;
        if entry.size() > 64 << 20 {
            return Err(bad(format!(
                "entry of {} bytes is too large for a tile",
                entry.size()
            )));
        }
        let entry_name = base_name(entry.name()).to_string();
        let mut buf = Vec::with_capacity(entry.size() as usize);
        // The declared size can lie: never inflate more than the largest tile (plus one byte to tell).
        (&mut entry)
            .take((64 << 20) + 1)
            .read_to_end(&mut buf)
            .map_err(|e| bad(format!("cannot decompress: {e}")))?;
        if buf.len() > 64 << 20 {
            return Err(bad(
                "entry inflates past 64 MiB: too large for a tile".into()
            ));
        }
        let name = if parse_tile_name(&entry_name).is_some() {
            entry_name
        } else {
            fname
        };
        (name, buf)
    } else {
        let bytes = std::fs::read(path).map_err(|source| TerrainError::Io {
            path: shown.clone(),
            source,
        })?;
        (fname, bytes)
    };
    let (lat, lon) = parse_tile_name(&name).ok_or_else(|| {
        bad(format!(
            "cannot tell the tile position from the name {name:?} (expected e.g. N42E001.hgt)"
        ))
    })?;
    let size = match bytes.len() {
        2_884_802 => 1201,
        25_934_402 => 3601,
        n => {
            return Err(bad(format!(
                "{n} bytes is neither an SRTM3 (1201 x 1201) nor an SRTM1 (3601 x 3601) tile"
            )))
        }
    };
    let data = bytes
        .chunks_exact(2)
        .map(|c| i16::from_be_bytes([c[0], c[1]]))
        .collect();
    Ok(HgtTile {
        name,
        lat,
        lon,
        size,
        data,
    })
}
