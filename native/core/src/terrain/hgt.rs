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

/// The largest zip entry read (an SRTM1 tile is 25,934,402 bytes).
const MAX_ENTRY_BYTES: u64 = 64 << 20;

/// Reads all of `reader` but never more than `limit + 1` bytes: the declared size of a zip entry can
/// lie, so the inflater is cut off one byte past the limit (that byte tells "too large").
fn inflate_bounded<R: Read>(
    reader: R,
    limit: u64,
    capacity: usize,
) -> std::result::Result<Vec<u8>, String> {
    let mut buf = Vec::with_capacity(capacity.min(limit as usize));
    reader
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot decompress: {e}"))?;
    if buf.len() as u64 > limit {
        return Err(format!(
            "entry inflates past {} MiB: too large for a tile",
            limit >> 20
        ));
    }
    Ok(buf)
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
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(bad(format!(
                "entry of {} bytes is too large for a tile",
                entry.size()
            )));
        }
        let entry_name = base_name(entry.name()).to_string();
        let capacity = entry.size() as usize;
        let buf = inflate_bounded(&mut entry, MAX_ENTRY_BYTES, capacity).map_err(bad)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A reader of `len` zero bytes that counts how many were pulled from it.
    struct Counting {
        len: u64,
        pulled: u64,
    }

    impl Read for Counting {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = (self.len - self.pulled).min(out.len() as u64) as usize;
            out[..n].fill(0);
            self.pulled += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn inflating_stops_one_byte_past_the_limit() {
        let mut src = Counting {
            len: 1 << 30,
            pulled: 0,
        };
        let err = inflate_bounded(&mut src, 1 << 20, 16).unwrap_err();
        assert!(err.contains("inflates past 1 MiB"), "{err}");
        assert_eq!(src.pulled, (1 << 20) + 1, "read past the limit");
        let mut small = Counting {
            len: 1000,
            pulled: 0,
        };
        assert_eq!(
            inflate_bounded(&mut small, 1 << 20, 1 << 40).unwrap().len(),
            1000
        );
    }

    /// A zip whose entry declares `declared` bytes but inflates to `actual` zero bytes.
    fn lying_zip(declared: u32, actual: usize) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file("N10E010.hgt", opts).unwrap();
            let chunk = vec![0u8; 1 << 20];
            let mut left = actual;
            while left > 0 {
                let n = left.min(chunk.len());
                w.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
            w.finish().unwrap();
        }
        let mut bytes = out.into_inner();
        // Rewrite the uncompressed size in the local header (offset 22) and the central
        // directory record (offset 24); the CRC and the compressed data stay true.
        let real = (actual as u32).to_le_bytes();
        let lie = declared.to_le_bytes();
        assert_eq!(&bytes[0..4], b"PK\x03\x04");
        assert_eq!(bytes[22..26], real);
        bytes[22..26].copy_from_slice(&lie);
        let cd = bytes
            .windows(4)
            .rposition(|w| w == b"PK\x01\x02")
            .expect("central directory");
        assert_eq!(bytes[cd + 24..cd + 28], real);
        bytes[cd + 24..cd + 28].copy_from_slice(&lie);
        bytes
    }

    #[test]
    fn a_zip_entry_that_lies_about_its_size_is_cut_off() {
        let dir = std::env::temp_dir().join(format!("hgt-lying-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("N10E010.zip");
        // Declares an SRTM3 tile, inflates to 64 MiB + 1 MiB.
        std::fs::write(&path, lying_zip(2_884_802, (65 << 20) as usize)).unwrap();
        let err = read_hgt_tile(&path).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).ok();
        assert!(err.contains("inflates past 64 MiB"), "{err}");
    }
}
