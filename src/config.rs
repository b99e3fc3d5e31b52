//! Configuration: config/default.toml, an optional override file (DFBS_CONFIG), environment
//! variables `DFBS__SECTION__KEY`, and DATABASE_URL.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The built-in defaults, so the binary works without a config file next to it.
const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub service: ServiceConfig,
    pub database: DatabaseConfig,
    pub paths: PathsConfig,
    pub limits: LimitsConfig,
    pub classify: ClassifyConfig,
    /// Directory relative paths are resolved against.
    #[serde(skip)]
    pub project_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub title: String,
    pub short_name: String,
    pub description: String,
    pub publisher: String,
    pub contact_name: String,
    pub contact_email: String,
    pub authority: String,
    pub base_url: String,
    pub listen: String,
    pub shutdown_timeout_s: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub data_dir: PathBuf,
    pub pg_bindir: String,
    pub port: u16,
    pub role_password: String,
    pub pool_size: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathsConfig {
    pub tap_dir: PathBuf,
    pub schema_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub maxrec_default: u64,
    pub maxrec_hard: u64,
    pub execution_duration_default_s: u64,
    pub execution_duration_max_s: u64,
    pub destruction_days: u64,
    pub request_max_bytes: usize,
    pub upload_max_bytes: usize,
    pub upload_max_rows: u64,
    pub upload_urls: UploadUrls,
}

/// The classify stage (ONNX models run with ONNX Runtime).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyConfig {
    pub model_dir: PathBuf,
    pub threshold: f32,
    pub threads: usize,
    pub batch: usize,
    pub onnxruntime: String,
    /// Adapt the class probabilities to each plate's class mix (pipeline::priors).
    pub adapt_priors: bool,
}

/// Whether tables are fetched from URLs given in UPLOAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadUrls {
    Off,
    Public,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("configuration {0}: {1}")]
    Parse(String, String),
}

impl Config {
    /// Loads the configuration for the project directory `project_dir` (where config/, tap/
    /// and schema/ live) from the process environment.
    pub fn load(project_dir: &Path) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Config::load_with_env(project_dir, &env)
    }

    /// As [`Config::load`], with the environment given explicitly (for tests).
    pub fn load_with_env(project_dir: &Path, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let parse = |name: &str, text: &str| {
            toml::from_str::<toml::Table>(text).map_err(|e| ConfigError::Parse(name.to_string(), e.to_string()))
        };
        let mut merged = parse("defaults", DEFAULT_TOML)?;
        let project_file = project_dir.join("config/default.toml");
        if let Ok(text) = std::fs::read_to_string(&project_file) {
            merge(&mut merged, parse(&project_file.display().to_string(), &text)?);
        }
        if let Some((_, path)) = env.iter().find(|(k, _)| k == "DFBS_CONFIG") {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
            merge(&mut merged, parse(path, &text)?);
        }
        for (key, value) in env {
            if let Some(path) = key.strip_prefix("DFBS__") {
                set_path(&mut merged, path, value)?;
            } else if key == "DATABASE_URL" && !value.is_empty() {
                set_path(&mut merged, "DATABASE__URL", value)?;
            }
        }
        let mut config: Config = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse("merged configuration".into(), e.to_string()))?;
        config.project_dir = project_dir.to_path_buf();
        Ok(config)
    }

    /// A path from the configuration, made absolute against the project directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_path_buf() } else { self.project_dir.join(path) }
    }

    pub fn tap_dir(&self) -> PathBuf {
        self.resolve(&self.paths.tap_dir)
    }

    pub fn schema_dir(&self) -> PathBuf {
        self.resolve(&self.paths.schema_dir)
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.service.base_url.trim_end_matches('/')
    }
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Sets `SECTION__KEY` (case-insensitive) to `value`, read as a TOML value when it is one.
fn set_path(table: &mut toml::Table, path: &str, value: &str) -> Result<(), ConfigError> {
    let parts: Vec<String> = path.split("__").map(|p| p.to_ascii_lowercase()).collect();
    let Some((last, sections)) = parts.split_last() else { return Ok(()) };
    let mut current = table;
    for section in sections {
        current = match current.get_mut(section) {
            Some(toml::Value::Table(t)) => t,
            _ => return Err(ConfigError::Parse(format!("DFBS__{path}"), format!("there is no section [{section}]"))),
        };
    }
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    // Keep strings strings: "5432" for a string key should not become an integer.
    let typed = match (current.get(last), parsed) {
        (Some(toml::Value::String(_)), v) if !v.is_str() => toml::Value::String(value.to_string()),
        (_, v) => v,
    };
    current.insert(last.clone(), typed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_load() {
        let c = Config::load_with_env(Path::new("/nonexistent"), &[]).unwrap();
        assert_eq!(c.service.listen, "127.0.0.1:8080");
        assert_eq!(c.database.port, 5432);
        assert_eq!(c.tap_dir(), Path::new("/nonexistent/tap"));
    }

    #[test]
    fn environment_overrides() {
        let c = Config::load_with_env(
            Path::new("/p"),
            &env(&[
                ("DFBS__SERVICE__BASE_URL", "https://dfbs.example.org/vo/"),
                ("DFBS__LIMITS__MAXREC_DEFAULT", "20"),
                ("DFBS__SERVICE__SHORT_NAME", "123"),
                ("DATABASE_URL", "postgresql://x@h/db"),
            ]),
        )
        .unwrap();
        assert_eq!(c.base_url(), "https://dfbs.example.org/vo");
        assert_eq!(c.limits.maxrec_default, 20);
        assert_eq!(c.service.short_name, "123");
        assert_eq!(c.database.url, "postgresql://x@h/db");
    }

    #[test]
    fn a_bad_override_says_which() {
        let err = Config::load_with_env(Path::new("/p"), &env(&[("DFBS__LIMITS__MAXREC_DEFAULT", "lots")])).unwrap_err();
        assert!(err.to_string().contains("maxrec_default"), "{err}");
    }
}
