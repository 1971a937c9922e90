//! Where kubectl users look: shell completions, a man page, and the binary as a kubectl
//! plugin (`kubectl-splitscope`).

use std::process::Command;

use crate::common::splitscope;

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for (shell, mark) in [
        ("bash", "_splitscope()"),
        ("zsh", "#compdef splitscope"),
        ("fish", "complete -c splitscope"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let (code, out, err) = splitscope(&["completions", shell], None);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(mark), "{shell}: {out}");
        for word in ["replay", "check", "demo", "record-cast"] {
            assert!(out.contains(word), "{shell} completes no {word}");
        }
    }
    let (code, _, err) = splitscope(&["completions", "tcsh"], None);
    assert_eq!(code, 2);
    assert!(err.contains("possible values: bash"), "{err}");
    let (code, man, err) = splitscope(&["man"], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        man.starts_with(".ie") || man.contains(".TH splitscope 1"),
        "{man}"
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS", "replay"] {
        assert!(man.contains(section), "no {section} in the man page");
    }
}

/// A directory with `kubectl-splitscope` in it, a link to the binary, as a user installs it.
fn plugin_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("splitscope-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("kubectl-splitscope");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_splitscope"), &link).unwrap();
    dir
}

#[test]
fn as_a_kubectl_plugin_it_calls_itself_kubectl_splitscope() {
    let dir = plugin_dir();
    // Called by its plugin name directly, as kubectl does.
    let out = Command::new(dir.join("kubectl-splitscope"))
        .args(["replay", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Usage: kubectl splitscope replay"), "{help}");
    let out = Command::new(dir.join("kubectl-splitscope"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kubectl splitscope"));
    // Through kubectl itself, where it is installed.
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let required = std::env::var("SPLITSCOPE_REQUIRE_KUBECTL").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "kubectl is required (SPLITSCOPE_REQUIRE_KUBECTL=1) but was not found"
        );
        eprintln!("kubectl not found; skipping the kubectl half");
        return;
    }
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("kubectl")
        .env("PATH", &path)
        .args(["plugin", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("kubectl-splitscope"));
    let out = Command::new("kubectl")
        .env("PATH", &path)
        .args(["splitscope", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && help.contains("Usage: kubectl splitscope"),
        "{help}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
