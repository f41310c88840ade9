//! An OCI image to a Proxmox template, end to end: ours (`Image::open`, `index_layers`,
//! `pack_layers`: every blob verified, layers merged in two streamed passes, nothing unpacked)
//! against the usual route, `umoci unpack` (Debian's umoci) and then
//! `tar -I 'zstd -T0' -cf` of the unpacked rootfs, on the same image in the same run.
//!
//! `cargo bench -p proxmox-lxcri-executor --bench image` builds the image itself: the ~200 MB
//! tree of the pack benchmark as a gzip layer, and a second gzip layer that deletes 500 files
//! (whiteouts), makes /usr/share/doc/pkg1 opaque and adds 50 files. Root is needed (umoci
//! unpacks owners as root). `PLXC_BENCH_DIR` picks the work directory, `PLXC_BENCH_ROUNDS` the
//! rounds (default 5); medians of wall and CPU time are printed.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{cpu, generate, median, Rng};
use executor::image::{Image, ImageRef, ACCOUNT_FILES};
use executor::pack::{index_layers, pack_layers, PackConfig, Progress};
use sha2::{Digest, Sha256};

fn sha(b: &[u8]) -> String {
    let d = Sha256::digest(b);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn gzip(b: &[u8]) -> Vec<u8> {
    // Level 6: what `docker push`/`podman push` write (compress/gzip DefaultCompression).
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// The top layer: whiteouts for 500 of the tree's files, an opaque directory, 50 new files.
fn top_layer() -> Vec<u8> {
    let mut rng = Rng(7);
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        // Every layer tool writes the owner fields; a header without them is refused.
        h.set_uid(0);
        h.set_gid(0);
        b.append_data(&mut h, path, data).unwrap();
    };
    for i in (0..5000).step_by(10) {
        add(
            &format!("usr/share/doc/pkg{}/sub{}/.wh.file{i}.txt", i % 97, i % 7),
            b"",
        );
    }
    add("usr/share/doc/pkg1/.wh..wh..opq", b"");
    for i in 0..50 {
        add(&format!("srv/new{i}.bin"), &rng.bytes(64 * 1024));
    }
    b.into_inner().unwrap()
}

/// Writes the image layout; returns its total layer size (uncompressed).
fn write_layout(dir: &Path, tree: &Path) -> u64 {
    let mut base = tar::Builder::new(Vec::new());
    base.follow_symlinks(false);
    base.append_dir_all(".", tree).unwrap();
    let base = base.into_inner().unwrap();
    let top = top_layer();
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = sha(bytes);
        fs::write(blobs.join(&d[7..]), bytes).unwrap();
        (d, bytes.len())
    };
    let layers: Vec<serde_json::Value> = [&base, &top]
        .iter()
        .map(|l| {
            let (d, n) = put(&gzip(l));
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
        })
        .collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(&base), sha(&top)]},
    }))
    .unwrap();
    let (cd, cn) = put(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
        "layers": layers,
    }))
    .unwrap();
    let (md, mn) = put(&manifest);
    fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
            "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}))
        .unwrap(),
    )
    .unwrap();
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    (base.len() + top.len()) as u64
}

fn run(cmd: &mut Command) {
    let st = cmd
        .status()
        .expect("umoci, GNU tar and zstd must be installed");
    assert!(st.success(), "{cmd:?}");
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        println!("image bench: needs root (umoci unpack keeps owners as root); skipped");
        return;
    }
    let base = std::env::var_os("PLXC_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let rounds: usize = std::env::var("PLXC_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let work = tempfile::tempdir_in(base).unwrap();
    let tree = work.path().join("tree");
    fs::create_dir(&tree).unwrap();
    generate(&tree);
    let layout = work.path().join("layout");
    let tar_bytes = write_layout(&layout, &tree);
    fs::remove_dir_all(&tree).unwrap();
    let mb = tar_bytes as f64 / 1e6;
    let blobs: u64 = fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "image: {mb:.1} MB of layer tars, {:.1} MB of blobs (gzip)",
        blobs as f64 / 1e6
    );

    let ours_out = work.path().join("ours.tar.zst");
    let umoci_out = work.path().join("umoci.tar.zst");
    let reference = ImageRef::parse(&format!("oci:{}:bench", layout.display())).unwrap();
    let cfg = PackConfig {
        progress: Progress::Never,
        ..PackConfig::default()
    };
    let run_ours = || {
        let c = cpu(libc::RUSAGE_SELF);
        let t = Instant::now();
        let image = Image::open(&reference, None).unwrap();
        let index = index_layers(&image, &ACCOUNT_FILES).unwrap();
        pack_layers(&image, &index, &ours_out, &cfg).unwrap();
        (t.elapsed(), cpu(libc::RUSAGE_SELF) - c)
    };
    let bundle: PathBuf = work.path().join("bundle");
    let run_umoci = || {
        let _ = fs::remove_dir_all(&bundle);
        let c = cpu(libc::RUSAGE_CHILDREN);
        let t = Instant::now();
        run(Command::new("umoci")
            .args(["unpack", "--image"])
            .arg(format!("{}:bench", layout.display()))
            .arg(&bundle));
        run(Command::new("tar")
            .args(["-I", "zstd -T0", "-cf"])
            .arg(&umoci_out)
            .arg("-C")
            .arg(bundle.join("rootfs"))
            .arg("."));
        (t.elapsed(), cpu(libc::RUSAGE_CHILDREN) - c)
    };
    run_ours();
    run_umoci();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(run_ours());
        theirs.push(run_umoci());
    }
    let report = |label: &str, runs: &[(Duration, Duration)], out: &Path| {
        let wall = median(runs.iter().map(|r| r.0).collect());
        let cpu = median(runs.iter().map(|r| r.1).collect());
        println!(
            "{label:<40}: wall median {:>6.3} s ({:>6.1} MB/s of layers), CPU median {:>6.3} s, template {:>6.1} MB",
            wall.as_secs_f64(),
            mb / wall.as_secs_f64(),
            cpu.as_secs_f64(),
            fs::metadata(out).unwrap().len() as f64 / 1e6
        );
        (wall, cpu)
    };
    let (ow, oc) = report("image → template (ours)", &ours, &ours_out);
    let (uw, uc) = report("umoci unpack + tar -I 'zstd -T0' -cf", &theirs, &umoci_out);
    println!(
        "umoci route / ours: wall {:.2}, CPU {:.2} (above 1 means ours is faster)",
        uw.as_secs_f64() / ow.as_secs_f64(),
        uc.as_secs_f64() / oc.as_secs_f64()
    );
}
