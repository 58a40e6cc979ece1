//! Throughput of layer extraction: generates a ~100 MB layer (many small files in many
//! directories, a few large files, symlinks and hard links), gzips it, and times
//!
//! - gzip decompression alone (to a sink),
//! - extraction alone (`apply_layer` from the uncompressed tar in memory),
//! - both in one thread (`apply_layer(decompress(gzip))`),
//! - decompression on a second thread piped into extraction,
//! - GNU `tar -xf` / `tar -xzf` of the same data, for reference,
//!
//! each into a fresh directory under `$TMPDIR` (removed and `sync`ed between runs, not timed;
//! the timed run itself does not sync: the page cache absorbs the writes, as it does for a real
//! pull, and the engine syncs once). Wall-clock medians, and the process's CPU time (user +
//! system, all threads; children for GNU tar), which is less disturbed by other load.
//!
//! Run: `cargo run --release -p berth-snapshot --example apply_throughput [runs]`

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use berth_snapshot::tar::{Entry, EntryKind, TarWriter, Timestamp};
use berth_snapshot::{ApplyOptions, apply_layer, decompress};

/// A small deterministic generator of semi-compressible text.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn fill(&mut self, out: &mut Vec<u8>, n: usize) {
        const WORDS: &[&[u8]] = &[
            b"the ",
            b"lib",
            b"usr/",
            b"share ",
            b"\x7fELF",
            b"\0\0\0\0",
            b"return ",
            b"0x4f2a ",
            b"function ",
            b"int ",
            b"const ",
            b"\n",
            b"static ",
            b"GLIBC_2.34 ",
        ];
        let start = out.len();
        while out.len() - start < n {
            let r = self.next();
            if r.is_multiple_of(5) {
                out.extend_from_slice(&r.to_le_bytes());
            } else {
                out.extend_from_slice(WORDS[(r >> 8) as usize % WORDS.len()]);
            }
        }
        out.truncate(start + n);
    }
}

fn make_layer() -> (Vec<u8>, usize) {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut w = TarWriter::new(Vec::with_capacity(110 << 20));
    let mut files = 0;
    let mtime = Timestamp {
        secs: 1_700_000_000,
        nanos: 0,
    };
    let dir = |w: &mut TarWriter<Vec<u8>>, p: String| {
        let mut e = Entry::new(EntryKind::Directory, p);
        e.mode = 0o755;
        e.mtime = mtime;
        w.append(&e, std::io::empty()).unwrap();
    };
    let mut data = Vec::new();
    for top in 0..30 {
        dir(&mut w, format!("usr/share/pkg{top}/"));
        for sub in 0..50 {
            let d = format!("usr/share/pkg{top}/d{sub}");
            dir(&mut w, format!("{d}/"));
            for f in 0..8 {
                data.clear();
                let size = (g.next() % 8192) as usize;
                g.fill(&mut data, size);
                let mut e = Entry::new(EntryKind::File, format!("{d}/file{f}.txt"));
                e.mode = if f == 0 { 0o755 } else { 0o644 };
                e.size = size as u64;
                e.mtime = mtime;
                w.append(&e, &data[..]).unwrap();
                files += 1;
            }
            let mut l = Entry::new(EntryKind::Symlink, format!("{d}/link"));
            l.link = b"file0.txt".to_vec();
            l.mode = 0o777;
            l.mtime = mtime;
            w.append(&l, std::io::empty()).unwrap();
            let mut h = Entry::new(EntryKind::HardLink, format!("{d}/hard"));
            h.link = format!("{d}/file1.txt").into_bytes();
            w.append(&h, std::io::empty()).unwrap();
        }
    }
    dir(&mut w, "usr/lib/".into());
    for i in 0..5 {
        data.clear();
        g.fill(&mut data, 10 << 20);
        let mut e = Entry::new(EntryKind::File, format!("usr/lib/big{i}.so"));
        e.mode = 0o755;
        e.size = data.len() as u64;
        e.mtime = mtime;
        w.append(&e, &data[..]).unwrap();
        files += 1;
    }
    (w.finish().unwrap(), files)
}

fn fresh(base: &Path, name: &str) -> std::path::PathBuf {
    let d = base.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir(&d).unwrap();
    d
}

/// CPU time (user + system) of this process and of its waited-for children, from
/// `/proc/self/stat` (clock ticks of 10 ms).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // Fields 14-17 of stat(5) are at 11..15 after the command name.
    let ticks: u64 = f.get(11..15).map(|v| v.iter().sum()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let base = tempfile::Builder::new()
        .prefix("berth-apply-bench-")
        .tempdir()
        .unwrap();
    let (tar, files) = make_layer();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let tar_path = base.path().join("layer.tar");
    let gz_path = base.path().join("layer.tar.gz");
    std::fs::write(&tar_path, &tar).unwrap();
    std::fs::write(&gz_path, &gz).unwrap();
    println!(
        "layer: {:.1} MB uncompressed, {:.1} MB gzip, {files} files; median of {runs} runs",
        tar.len() as f64 / 1e6,
        gz.len() as f64 / 1e6
    );
    let opts = ApplyOptions::default();

    let t_decomp = time(runs, || {
        std::io::copy(&mut decompress(&gz[..]).unwrap(), &mut std::io::sink()).unwrap();
    });
    println!(
        "{:<36}{:>8.1} ms",
        "gzip decompression only",
        t_decomp.as_secs_f64() * 1e3
    );

    type Mode<'a> = (&'a str, Box<dyn Fn(&Path) + 'a>);
    let mut modes: Vec<Mode> = vec![
        (
            "extract only (apply_layer, tar)",
            Box::new(|d: &Path| {
                apply_layer(d, &tar[..], &opts).unwrap();
            }),
        ),
        (
            "decompress + extract, one thread",
            Box::new(|d: &Path| {
                apply_layer(d, decompress(&gz[..]).unwrap(), &opts).unwrap();
            }),
        ),
        (
            "decompress thread | extract",
            Box::new(|d: &Path| {
                let (mut rx, mut tx) = std::io::pipe().unwrap();
                let gz = gz.clone();
                let h = std::thread::spawn(move || {
                    std::io::copy(&mut decompress(&gz[..]).unwrap(), &mut tx).unwrap();
                });
                apply_layer(d, &mut rx, &opts).unwrap();
                h.join().unwrap();
            }),
        ),
    ];
    if Command::new("tar").arg("--version").output().is_ok() {
        for (label, args, file) in [
            ("GNU tar -xf (reference)", "-xf", tar_path.clone()),
            ("GNU tar -xzf (reference)", "-xzf", gz_path.clone()),
        ] {
            modes.push((
                label,
                Box::new(move |d: &Path| {
                    let st = Command::new("tar")
                        .arg(args)
                        .arg(&file)
                        .arg("-C")
                        .arg(d)
                        .status()
                        .unwrap();
                    assert!(st.success());
                }),
            ));
        }
    }
    // Interleaved rounds: every mode once per round, so that all see the same conditions.
    let mut wall = vec![Vec::new(); modes.len()];
    let mut cpus = vec![Vec::new(); modes.len()];
    for round in 0..runs {
        for (i, (_, f)) in modes.iter().enumerate() {
            let d = fresh(base.path(), &format!("out-{round}-{i}"));
            rustix::fs::sync();
            let (t, c) = (Instant::now(), cpu());
            f(&d);
            wall[i].push(t.elapsed());
            cpus[i].push(cpu().saturating_sub(c));
            let _ = std::fs::remove_dir_all(&d);
        }
    }
    let mut medians = Vec::new();
    for (i, (label, _)) in modes.iter().enumerate() {
        let best = *wall[i].iter().min().unwrap();
        let (m, c) = (median(wall[i].clone()), median(cpus[i].clone()));
        medians.push(m);
        println!(
            "{label:<36}{:>8.1} ms  (best {:>7.1} ms, cpu {:>6.0} ms)",
            m.as_secs_f64() * 1e3,
            best.as_secs_f64() * 1e3,
            c.as_secs_f64() * 1e3
        );
    }
    if medians.len() == 5 {
        println!(
            "ratio extract / tar -xf {:.2}; one thread gzip / tar -xzf {:.2}; piped / tar -xzf {:.2}",
            medians[0].as_secs_f64() / medians[3].as_secs_f64(),
            medians[1].as_secs_f64() / medians[4].as_secs_f64(),
            medians[2].as_secs_f64() / medians[4].as_secs_f64(),
        );
    }
}
