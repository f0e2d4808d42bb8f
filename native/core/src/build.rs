//! Build facts reported by `ridgeline._native.build_info()` and `/health`.

/// The crate version baked in at compile time.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `"release"` when compiled with optimisations and without debug assertions.
pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The target CPU features this binary was compiled to use (not what the host has).
pub fn target_features() -> Vec<&'static str> {
    let mut features = Vec::new();
    macro_rules! probe {
        ($($name:tt),*) => {
            $( if cfg!(target_feature = $name) { features.push($name); } )*
        };
    }
    probe!("sse2", "sse4.1", "sse4.2", "avx", "avx2", "fma", "bmi2", "neon");
    features
}

/// The target triple parts available at compile time.
pub fn target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_semver_like() {
        assert_eq!(VERSION.split('.').count(), 3);
    }

    #[test]
    fn features_are_known_names() {
        for f in target_features() {
            assert!(!f.is_empty());
        }
        assert!(profile() == "debug" || profile() == "release");
    }
}
