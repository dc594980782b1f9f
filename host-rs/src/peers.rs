//! The compute rows against the interpreters users compare with: each row's algorithm written
//! idiomatically for CPython in `bench/python/<slug>.py` and for Lua 5.4 in
//! `bench/lua/<slug>.lua` (the row's name in lowercase, other characters as `-`), run in the
//! same bench run with start-up excluded (each program times its own `run()` and prints
//! `median_us result`). A peer missing from the machine is left out. No language logic: the
//! rows and their results come from the component; this only runs the programs and divides.

use crate::render::Row;
use host::BenchmarkGroup;
use std::path::Path;
use std::process::Command;

use crate::host;

/// An interpreter the compute rows are measured against.
pub struct Peer {
    /// As the tables name it.
    pub name: &'static str,
    /// The program, looked up on PATH.
    pub program: &'static str,
    /// What makes it print its version.
    pub version_arg: &'static str,
    /// The Debian package that has it, installed by [`install_missing`] (CPython is on every
    /// machine the project runs on).
    pub debian_package: Option<&'static str>,
    /// Its programs' folder under the workspace root, and their extension.
    pub dir: &'static str,
    pub ext: &'static str,
}

/// CPython (what notebook users run today) and Lua 5.4 (the small fast interpreter).
pub const PEERS: [Peer; 2] = [
    Peer {
        name: "CPython",
        program: "python3",
        version_arg: "--version",
        debian_package: None,
        dir: "bench/python",
        ext: "py",
    },
    Peer {
        name: "Lua",
        program: "lua5.4",
        version_arg: "-v",
        debian_package: Some("lua5.4"),
        dir: "bench/lua",
        ext: "lua",
    },
];

/// One compute row measured by a peer.
pub struct PeerTime {
    /// The peer's median, microseconds.
    pub us: f64,
    /// Whether the peer's result is the same text as our result.
    pub same_result: bool,
}

/// One compute row beside every peer on the machine.
pub struct Comparison {
    pub category: String,
    /// Our p50, microseconds.
    pub ours_us: f64,
    /// One entry per peer of [`Found`], `None` where the peer has no program for the row.
    pub peers: Vec<Option<PeerTime>>,
}

/// A peer found on this machine, with what `--version` (or `-v`) printed.
pub struct Found {
    pub peer: &'static Peer,
    pub version: String,
}

/// Our time over a peer's (below 1: we are faster).
pub fn ratio(ours_us: f64, peer_us: f64) -> f64 {
    ours_us / peer_us.max(1e-9)
}

/// The file of a row: `fib(27)` -> `fib-27`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Installs a missing peer's Debian package with apt-get (as root, or through `sudo -n`),
/// saying so on stderr; a peer that cannot be installed is left out of the comparison.
pub fn install_missing() {
    for peer in &PEERS {
        let Some(package) = peer.debian_package else {
            continue;
        };
        if Command::new(peer.program)
            .arg(peer.version_arg)
            .output()
            .is_ok()
        {
            continue;
        }
        eprintln!(
            "no {} on this machine: installing Debian's {package} package...",
            peer.program
        );
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let (cmd, pre): (&str, &[&str]) = if root {
            ("apt-get", &[])
        } else {
            ("sudo", &["-n", "apt-get"])
        };
        let quiet = |args: &[&str]| {
            Command::new(cmd)
                .args(pre)
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let ok = quiet(&["update", "-q"])
            && quiet(&["install", "-y", "-q", "--no-install-recommends", package]);
        if !ok {
            eprintln!("could not install {package}: the compute rows are compared without it");
        }
    }
}

/// The peers on this machine.
pub fn found() -> Vec<Found> {
    PEERS
        .iter()
        .filter_map(|peer| {
            let out = Command::new(peer.program)
                .arg(peer.version_arg)
                .output()
                .ok()?;
            // `lua5.4 -v`: "Lua 5.4.6  Copyright (C) ..."; `python3 --version`: "Python 3.11.7"
            let text = String::from_utf8_lossy(&out.stdout);
            let version = text.split("  ").next().unwrap_or("").trim().to_string();
            (out.status.success() && !version.is_empty()).then_some(Found { peer, version })
        })
        .collect()
}

/// Runs each found peer's program of every compute row in `rows`, `runs` times each.
pub fn compare(root: &Path, found: &[Found], rows: &[Row], runs: u32) -> Vec<Comparison> {
    if found.is_empty() {
        return Vec::new();
    }
    rows.iter()
        .filter(|r| r.group == BenchmarkGroup::Compute)
        .map(|r| Comparison {
            category: r.category.clone(),
            ours_us: r.stats.p50,
            peers: found
                .iter()
                .map(|f| run(root, f.peer, &r.category, &r.result, runs))
                .collect(),
        })
        .filter(|c| c.peers.iter().any(Option::is_some))
        .collect()
}

fn run(root: &Path, peer: &Peer, category: &str, result: &str, runs: u32) -> Option<PeerTime> {
    let dir = root.join(peer.dir);
    let file = dir.join(format!("{}.{}", slug(category), peer.ext));
    if !file.is_file() {
        return None;
    }
    let out = Command::new(peer.program)
        .arg(&file)
        .arg(runs.max(1).to_string())
        .current_dir(&dir)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (us, theirs) = text.trim().split_once(' ')?;
    Some(PeerTime {
        us: us.parse().ok()?,
        same_result: theirs == result,
    })
}

/// The comparison as a table: our time, then each peer's time and our ratio to it.
pub fn table(title: &str, found: &[Found], rows: &[Comparison]) -> String {
    let mut out = format!("{title}\n{:<58} {:>12}", "row", "ours p50 us");
    for f in found {
        out.push_str(&format!(
            " {:>12} {:>7}",
            format!("{} us", f.peer.name),
            "ratio"
        ));
    }
    out.push_str("  same result\n");
    for c in rows {
        out.push_str(&format!("{:<58} {:>12.1}", c.category, c.ours_us));
        let mut same = true;
        for p in &c.peers {
            match p {
                Some(p) => {
                    same &= p.same_result;
                    out.push_str(&format!(" {:>12.1} {:>6.2}x", p.us, ratio(c.ours_us, p.us)));
                }
                None => out.push_str(&format!(" {:>12} {:>7}", "-", "-")),
            }
        }
        out.push_str(if same { "  yes\n" } else { "  NO\n" });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_name_the_peer_programs() {
        assert_eq!(slug("fib(27)"), "fib-27");
        assert_eq!(slug("sum 1..=1,000,000"), "sum-1-1-000-000");
        assert_eq!(slug("matrix product 200x200"), "matrix-product-200x200");
        let root = crate::build::workspace_root();
        for peer in &PEERS {
            for (name, _, _) in ruchy_notebook::bench::COMPUTE_CELLS {
                let file = root
                    .join(peer.dir)
                    .join(format!("{}.{}", slug(name), peer.ext));
                assert!(file.is_file(), "{}", file.display());
            }
        }
    }
}
