//! `host-rs kernel install`: the kernelspec, laid out as `jupyter kernelspec install` lays it
//! out: `<data dir>/kernels/ruchy/{kernel.json, logo-32x32.png, logo-64x64.png}`.

use anyhow::{bail, Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The kernelspec's name: the folder under `kernels/` and what `jupyter --kernel` takes.
pub const KERNEL_NAME: &str = "ruchy";

const LOGO_32: &[u8] = include_bytes!("logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("logo-64x64.png");

/// Where to install, as `jupyter kernelspec install` names the places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The user's Jupyter data directory (`$JUPYTER_DATA_DIR`, else `~/Library/Jupyter` on
    /// macOS, else `$XDG_DATA_HOME/jupyter` or `~/.local/share/jupyter`).
    User,
    /// The Python environment's `share/jupyter`: `$VIRTUAL_ENV`, else `python3`'s `sys.prefix`.
    SysPrefix,
    /// `DIR/share/jupyter`.
    Prefix(PathBuf),
}

/// The Jupyter data directory (the one holding `kernels/`) of a location.
pub fn data_dir(location: &Location) -> Result<PathBuf> {
    Ok(match location {
        Location::User => user_data_dir()?,
        Location::SysPrefix => sys_prefix()?.join("share").join("jupyter"),
        Location::Prefix(dir) => dir.join("share").join("jupyter"),
    })
}

fn user_data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("JUPYTER_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .context("HOME is not set: cannot find the user's Jupyter data directory")?;
    if cfg!(target_os = "macos") {
        return Ok(home.join("Library").join("Jupyter"));
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".local").join("share"));
    Ok(data.join("jupyter"))
}

fn sys_prefix() -> Result<PathBuf> {
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(venv));
    }
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .context("--sys-prefix: no VIRTUAL_ENV and cannot run python3 to ask for sys.prefix")?;
    if !out.status.success() {
        bail!("--sys-prefix: python3 could not print sys.prefix");
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The `kernel.json` of a kernel started as `exe [--component C] kernel --connection-file F`.
pub fn kernel_json(exe: &Path, component: Option<&Path>) -> serde_json::Value {
    let mut argv = vec![exe.display().to_string()];
    if let Some(c) = component {
        argv.push("--component".into());
        argv.push(c.display().to_string());
    }
    argv.extend(["kernel", "--connection-file", "{connection_file}"].map(String::from));
    json!({
        "argv": argv,
        "display_name": "Ruchy",
        "language": "ruchy",
        "interrupt_mode": "message",
        "metadata": { "debugger": false },
    })
}

/// Writes the kernelspec into `location`, pointing at the running binary (and at `component`
/// when one was given); returns the kernelspec's folder.
pub fn install(location: &Location, component: Option<&Path>) -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .and_then(|e| e.canonicalize())
        .context("finding the path of the running host-rs")?;
    let component = match component {
        Some(c) => Some(
            c.canonicalize()
                .with_context(|| format!("finding the component {}", c.display()))?,
        ),
        None => None,
    };
    let dir = data_dir(location)?.join("kernels").join(KERNEL_NAME);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec = kernel_json(&exe, component.as_deref());
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    };
    write(
        "kernel.json",
        format!("{}\n", serde_json::to_string_pretty(&spec)?).as_bytes(),
    )?;
    write("logo-32x32.png", LOGO_32)?;
    write("logo-64x64.png", LOGO_64)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_points_at_the_binary() {
        let spec = kernel_json(Path::new("/opt/bin/host-rs"), None);
        assert_eq!(
            spec["argv"],
            json!([
                "/opt/bin/host-rs",
                "kernel",
                "--connection-file",
                "{connection_file}"
            ])
        );
        assert_eq!(spec["language"], "ruchy");
        assert_eq!(spec["display_name"], "Ruchy");
        assert_eq!(spec["interrupt_mode"], "message");
    }

    #[test]
    fn prefix_layout() {
        let dir = data_dir(&Location::Prefix(PathBuf::from("/venv"))).unwrap();
        assert_eq!(dir, PathBuf::from("/venv/share/jupyter"));
    }

    #[test]
    fn logos_are_pngs() {
        for logo in [LOGO_32, LOGO_64] {
            assert_eq!(&logo[..8], b"\x89PNG\r\n\x1a\n");
        }
    }
}
