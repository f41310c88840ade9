//! Reading images the test builds (tests/image_support): every transport, the layers merged
//! into a template, and every kind of tampering refused with the blob named.

mod image_support;

use std::io::Read;

use executor::image::{Image, ImageRef, Platform};
use executor::pack::{index_layers, pack_layers, PackConfig, Progress};
use image_support::{app_image, Compression};

fn open(r: &str) -> Result<Image, String> {
    Image::open(&ImageRef::parse(r).unwrap(), None).map_err(|e| e.to_string())
}

/// Names in the template, in order.
fn template_names(path: &std::path::Path) -> Vec<String> {
    let mut bytes = Vec::new();
    zstd::stream::read::Decoder::new(std::fs::File::open(path).unwrap())
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let mut a = tar::Archive::new(bytes.as_slice());
    a.entries()
        .unwrap()
        .map(|e| String::from_utf8(e.unwrap().path_bytes().into_owned()).unwrap())
        .collect()
}

fn check_app(image: &Image) {
    assert_eq!(image.layer_count(), 2);
    let index = index_layers(image, &executor::image::ACCOUNT_FILES).unwrap();
    assert!(index
        .file("/etc/passwd")
        .unwrap()
        .starts_with(b"root:x:0:0"));
    assert!(index
        .file("/etc/group")
        .unwrap()
        .ends_with(b"web:x:33:app\n"));
    let out = tempfile::tempdir().unwrap();
    let template = out.path().join("app.tar.zst");
    let config = PackConfig {
        progress: Progress::Never,
        ..PackConfig::default()
    };
    pack_layers(image, &index, &template, &config).unwrap();
    let names = template_names(&template);
    assert!(names.contains(&"./srv/index.html".to_owned()), "{names:?}");
    assert!(names.contains(&"./bin/sh".to_owned()));
    assert!(
        !names.contains(&"./bin/old-tool".to_owned()),
        "the whiteout deletes it"
    );
    assert!(!names.iter().any(|n| n.contains(".wh.")), "{names:?}");
}

#[test]
fn an_oci_layout_in_every_compression() {
    for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let mut img = app_image();
        img.compression = c;
        img.write_layout(dir.path());
        let r = format!("oci:{}:latest", dir.path().display());
        let image = open(&r).unwrap();
        assert_eq!(
            image.config_digest.as_str(),
            image_support::sha256(&img.config_blob())
        );
        check_app(&image);
        // Without a tag: the only image.
        check_app(&open(&format!("oci:{}", dir.path().display())).unwrap());
    }
}

#[test]
fn oci_archives_plain_and_compressed() {
    for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let file = app_image().write_oci_archive(&dir.path().join("img.tar"), c);
        check_app(&open(&format!("oci-archive:{}", file.display())).unwrap());
    }
}

#[test]
fn a_docker_archive() {
    let dir = tempfile::tempdir().unwrap();
    let file = app_image().write_docker_archive(&dir.path().join("img.tar"), "localhost/app:1.0");
    check_app(&open(&format!("docker-archive:{}", file.display())).unwrap());
    check_app(
        &open(&format!(
            "docker-archive:{}:localhost/app:1.0",
            file.display()
        ))
        .unwrap(),
    );
    let e = open(&format!("docker-archive:{}:other:2", file.display()))
        .err()
        .unwrap();
    assert!(e.contains("localhost/app:1.0"), "{e}");
}

#[test]
fn a_missing_tag_lists_the_tags() {
    let dir = tempfile::tempdir().unwrap();
    app_image().write_layout(dir.path());
    let e = open(&format!("oci:{}:v9", dir.path().display()))
        .err()
        .unwrap();
    assert!(
        e.contains("no image is tagged `v9`") && e.contains("latest"),
        "{e}"
    );
}

#[test]
fn a_tampered_layer_is_named_and_nothing_is_packed() {
    let dir = tempfile::tempdir().unwrap();
    let files = app_image().write_layout(dir.path());
    // The first blob written is the bottom layer: flip one byte of it.
    let (name, bytes) = &files[0];
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    std::fs::write(dir.path().join(name), &bad).unwrap();
    let image = open(&format!("oci:{}", dir.path().display())).unwrap();
    let e = index_layers(&image, &[]).unwrap_err().to_string();
    assert!(e.contains(&name[13..]), "the error names the layer: {e}");
}

#[test]
fn a_tampered_config_is_refused_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let img = app_image();
    img.write_layout(dir.path());
    let config = image_support::sha256(&img.config_blob());
    let path = dir.path().join("blobs/sha256").join(&config[7..]);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] = b' ';
    std::fs::write(&path, bytes).unwrap();
    let e = open(&format!("oci:{}", dir.path().display()))
        .err()
        .unwrap();
    assert!(
        e.contains("does not match its digest") && e.contains(&config),
        "{e}"
    );
}

#[test]
fn a_layer_whose_diff_id_is_wrong_is_refused() {
    // Every blob matches its descriptor, but the config claims another uncompressed top layer.
    let dir = tempfile::tempdir().unwrap();
    let mut img = app_image();
    let claimed = image_support::sha256(b"some other layer");
    img.diff_ids = Some(vec![image_support::sha256(&img.layers[0]), claimed.clone()]);
    img.write_layout(dir.path());
    let image = open(&format!("oci:{}", dir.path().display())).unwrap();
    let e = index_layers(&image, &[]).unwrap_err().to_string();
    assert!(
        e.contains(&claimed) && e.contains("uncompressed layer"),
        "{e}"
    );
}

#[test]
fn a_blob_symlink_out_of_the_layout_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let files = app_image().write_layout(dir.path());
    let secret = tempfile::NamedTempFile::new().unwrap();
    let (name, _) = &files[0];
    std::fs::remove_file(dir.path().join(name)).unwrap();
    std::os::unix::fs::symlink(secret.path(), dir.path().join(name)).unwrap();
    let image = open(&format!("oci:{}", dir.path().display())).unwrap();
    let e = index_layers(&image, &[]).unwrap_err().to_string();
    assert!(e.contains("symbolic link"), "{e}");
}

#[test]
fn a_multi_platform_index_picks_the_platform() {
    assert_eq!(
        Platform::parse("linux/arm64/v8").unwrap().to_string(),
        "linux/arm64/v8"
    );
    assert!(Platform::parse("linux").is_err());
    let dir = tempfile::tempdir().unwrap();
    app_image().write_layout(dir.path());
    let r = ImageRef::parse(&format!("oci:{}", dir.path().display())).unwrap();
    // A plain manifest has no platform to choose: any --platform reads it.
    assert!(Image::open(&r, Some(&Platform::parse("linux/s390x").unwrap())).is_ok());
}

#[test]
fn wrong_transport_and_missing_files_are_clear_errors() {
    let e = open("oci:/nonexistent/dir").err().unwrap();
    assert!(e.contains("/nonexistent/dir"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let e = open(&format!("oci:{}", dir.path().display()))
        .err()
        .unwrap();
    assert!(e.contains("oci-layout"), "{e}");
    let f = dir.path().join("x.tar");
    std::fs::write(&f, b"not a tar at all").unwrap();
    let e = open(&format!("oci-archive:{}", f.display())).err().unwrap();
    assert!(e.contains("x.tar"), "{e}");
}
