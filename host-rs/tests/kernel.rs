//! The Jupyter kernel with real Jupyter clients: a project venv (`target/jupyter-venv`, the
//! pinned packages of `host-rs/tests/kernel/requirements.txt`; made once, reused while the
//! file is unchanged), the kernelspec installed into it with `host-rs kernel install
//! --prefix`, then `jupyter_kernel_test`'s suite and ours (`tests/kernel/test_ruchy_kernel.py`)
//! on localhost. Every step is bounded in time; the kernel exits with its client.

use host_rs::build::{ensure_component, workspace_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest the venv may take to make (pip downloads the first time).
const VENV_TIMEOUT: Duration = Duration::from_secs(600);
/// Longest the Python suite may run.
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs a command to its end or kills it after `timeout`; returns its status and output.
fn run(cmd: &mut Command, timeout: Duration) -> (bool, String) {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let (out, err) = (read(Box::new(out)), read(Box::new(err)));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = format!(
        "{}{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    match status {
        Some(s) => (s.success(), text),
        None => (false, format!("{what}: killed after {timeout:?}\n{text}")),
    }
}

/// The venv with the pinned clients: reused when its stamp matches the requirements file.
fn venv(root: &Path) -> PathBuf {
    let venv = root.join("target").join("jupyter-venv");
    let requirements = root.join("host-rs/tests/kernel/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
    let stamp = venv.join("ruchy-requirements.txt");
    let python = venv.join("bin").join("python");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return venv;
    }
    let t = Instant::now();
    let _ = std::fs::remove_dir_all(&venv);
    let (ok, text) = run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        VENV_TIMEOUT,
    );
    assert!(ok, "python3 -m venv failed:\n{text}");
    let (ok, text) = run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("-r")
            .arg(&requirements),
        VENV_TIMEOUT,
    );
    assert!(ok, "pip install failed:\n{text}");
    std::fs::write(&stamp, &wanted).expect("writing the venv stamp");
    eprintln!(
        "made {} in {:.1} s",
        venv.display(),
        t.elapsed().as_secs_f64()
    );
    venv
}

#[test]
fn jupyter_clients_drive_the_kernel() {
    let root = workspace_root();
    ensure_component(&root).expect("the component");
    let venv = venv(&root);
    let host = env!("CARGO_BIN_EXE_host-rs");
    let (ok, text) = run(
        Command::new(host)
            .args(["kernel", "install", "--prefix"])
            .arg(&venv),
        Duration::from_secs(60),
    );
    assert!(ok, "kernel install failed:\n{text}");
    let spec = venv.join("share/jupyter/kernels/ruchy");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(spec.join("kernel.json")).unwrap()).unwrap();
    assert_eq!(
        json["argv"][0],
        Path::new(host)
            .canonicalize()
            .unwrap()
            .display()
            .to_string()
    );
    assert!(spec.join("logo-64x64.png").exists());

    // Jupyter finds the kernelspec only in the venv, writes its files in a fresh directory
    let scratch = root.join("target").join("jupyter-scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let t = Instant::now();
    let (ok, text) = run(
        Command::new(venv.join("bin").join("python"))
            .arg(root.join("host-rs/tests/kernel/test_ruchy_kernel.py"))
            .env("JUPYTER_PATH", venv.join("share/jupyter"))
            .env("JUPYTER_DATA_DIR", scratch.join("data"))
            .env("JUPYTER_RUNTIME_DIR", scratch.join("runtime"))
            .env("JUPYTER_CONFIG_DIR", scratch.join("config"))
            .env("JUPYTER_PLATFORM_DIRS", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(&scratch),
        SUITE_TIMEOUT,
    );
    eprintln!(
        "{text}\n(the Python suite took {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    assert!(ok, "the Jupyter client tests failed (output above)");
}
