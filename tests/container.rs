//! The container image (Dockerfile) holds what the binary reads at run time: every directory
//! the default configuration names (metadata, migrations, models) and the ONNX Runtime version
//! the project pins. No Docker daemon is needed: the Dockerfile is read as text.

use std::path::Path;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The `COPY SOURCE /opt/dfbs-vo/...` lines of the runtime stage (the image's DFBS_HOME).
fn copied_into_home(dockerfile: &str) -> Vec<String> {
    dockerfile
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["COPY", source, target] if target.starts_with("/opt/dfbs-vo/") => Some(source.trim_end_matches('/').to_string()),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn the_image_holds_every_directory_the_default_configuration_names() {
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains("DFBS_HOME=/opt/dfbs-vo"), "the image's project directory moved: update this test");
    let copied = copied_into_home(&dockerfile);
    let config: toml::Table = read("config/default.toml").parse().expect("config/default.toml parses");
    let mut named = Vec::new();
    for (section, keys) in &config {
        let Some(keys) = keys.as_table() else { continue };
        for (key, value) in keys {
            // data_dir is the database cluster, made at run time in the image's volume.
            if key.ends_with("_dir") && key != "data_dir" {
                named.push((format!("{section}.{key}"), value.as_str().expect("a path").to_string()));
            }
        }
    }
    assert!(named.iter().any(|(key, _)| key == "classify.model_dir"), "{named:?}");
    for (key, dir) in &named {
        assert!(copied.contains(dir), "the Dockerfile copies no {dir}/ ({key} in config/default.toml) into /opt/dfbs-vo: {copied:?}");
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).is_dir(), "{dir}/ is missing from the repository");
    }
}

#[test]
fn the_image_installs_the_onnx_runtime_the_project_pins() {
    let pinned = read("scripts/requirements.txt")
        .lines()
        .find_map(|line| line.trim().strip_prefix("onnxruntime==").map(str::to_string))
        .expect("scripts/requirements.txt pins onnxruntime");
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.contains(&format!("onnxruntime=={pinned}")),
        "the Dockerfile installs another onnxruntime than scripts/requirements.txt ({pinned})"
    );
}
