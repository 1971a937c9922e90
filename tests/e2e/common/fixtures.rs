//! Where tests find manifests: the project's own under tests/fixtures, and the upstream
//! copies (CRDs, Istio samples) in ../shared/fixtures, which a clone of the project alone
//! does not have.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A manifest the project writes itself, under tests/fixtures.
pub fn own(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// An upstream file under ../shared/fixtures, for cross-checks against the real CRDs and
/// samples. None, with the reason printed, when that folder is missing; a failure instead
/// when SPLITSCOPE_REQUIRE_FIXTURES=1 (as in CI), so the cross-checks cannot silently stop.
pub fn upstream(relative: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    let path = dir.join(relative);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("SPLITSCOPE_REQUIRE_FIXTURES").is_ok_and(|v| v == "1") {
        panic!(
            "{} is missing, and SPLITSCOPE_REQUIRE_FIXTURES=1 requires it",
            path.display()
        );
    }
    // Straight to stderr, past the test harness's capture, so the skip is reported even
    // when the test passes.
    let _ = writeln!(
        std::io::stderr(),
        "skipping a cross-check: {} is missing (a clone of the project alone has no \
         ../shared/fixtures; SPLITSCOPE_REQUIRE_FIXTURES=1 makes this a failure)",
        path.display()
    );
    None
}
