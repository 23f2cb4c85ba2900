//! The `herald` binary's administration commands, run as an operator would.

use std::process::Command;

fn herald(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HERALD_DATA_DIR", dir)
        .env("HERALD_LOG", "error")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn user_add_creates_the_organisation_and_prints_a_password() {
    let dir = std::env::temp_dir().join(format!("herald-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let (ok, out) = herald(
        &dir,
        &[
            "user",
            "add",
            "--org",
            "acme",
            "--email",
            "ops@acme.test",
            "--role",
            "admin",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("Added ops@acme.test (Admin) to acme."),
        "{out}"
    );
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("a generated password")
        .trim();
    assert_eq!(password.len(), 20);

    let (ok, out) = herald(
        &dir,
        &[
            "user",
            "add",
            "--org",
            "acme",
            "--email",
            "m@acme.test",
            "--role",
            "marketer",
            "--password",
            "chosen-password",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        !out.contains("Password:"),
        "a chosen password is not printed: {out}"
    );

    let (ok, out) = herald(
        &dir,
        &[
            "user",
            "add",
            "--org",
            "acme",
            "--email",
            "x@acme.test",
            "--role",
            "owner",
        ],
    );
    assert!(!ok);
    assert!(
        out.contains("--role must be one of admin, marketer, member"),
        "{out}"
    );
    let (ok, out) = herald(
        &dir,
        &[
            "user",
            "add",
            "--org",
            "Bad Slug",
            "--email",
            "x@acme.test",
            "--role",
            "admin",
        ],
    );
    assert!(!ok);
    assert!(out.contains("Invalid organisation slug"), "{out}");

    assert!(
        dir.join("herald.db").exists(),
        "SQLite under the data directory by default"
    );
    assert!(
        dir.join("secret.key").exists(),
        "the secret key is generated into the data directory"
    );
    let (ok, out) = herald(&dir, &["migrate"]);
    assert!(ok && out.contains("Migrations applied."), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
