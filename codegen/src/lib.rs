//! hl7-codegen: HL7 v2 profile definitions (a guide's folder of profiles over the base
//! standard's folder) → checked model → Rust.
//!
//! Three stages, each its own module: [`spec`] mirrors the JSON, [`model`] checks it and
//! resolves references (reporting every problem at once, with file and JSON pointer), and
//! `emit` spells the model out as tokens, through [`expand`]: the builders `hl7-derive` calls
//! too, so that a type an application derives expands like a generated one (the module says
//! why the two share builders rather than generated code using the derives, with the
//! measurements). `build.rs` files and the `hl7-codegen` command are
//! thin shells over [`Config`].
//!
//! ```no_run
//! // in build.rs, inside `fn main`:
//! hl7_codegen::Config::new("spec/my-guide").base_standard("spec/hl7v2.5.1").runtime_path("::hl7_runtime").build().unwrap();
//! ```

pub mod api;
pub mod error;
pub mod expand;
pub mod model;
pub mod names;
mod naming;
pub mod spec;

mod emit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{SpecError, SpecErrors};

/// What to generate and where from.
#[derive(Debug, Clone)]
pub struct Config {
    guide_dir: PathBuf,
    base_dir: PathBuf,
    fixtures_dir: Option<PathBuf>,
    runtime_path: String,
    profiles: Option<Vec<String>>,
    out_dir: Option<PathBuf>,
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("{0}")]
    Spec(#[from] SpecErrors),
    #[error("runtime path `{0}` is not a Rust path")]
    RuntimePath(String),
    #[error("OUT_DIR is not set: call Config::out_dir or run from a build script")]
    NoOutDir,
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Config {
    /// Reads the guide's profiles from `guide_dir` (`<profile>.tables.json`, `.hand.json`, and
    /// the optional `common`, `code_tables`, `national_tables`, `value_sets` files of
    /// `spec/README.md`). The base standard's folder defaults to `hl7v2.5.1` beside it.
    pub fn new(guide_dir: impl AsRef<Path>) -> Self {
        let guide_dir = guide_dir.as_ref().to_path_buf();
        let base_dir = guide_dir.parent().unwrap_or(Path::new("")).join("hl7v2.5.1");
        Config { guide_dir, base_dir, fixtures_dir: None, runtime_path: "::hl7_runtime".to_owned(), profiles: None, out_dir: None }
    }

    /// The folder of the base standard's definitions (`segments.json`, `datatypes.json`,
    /// `tables.json`, `structures.json`) the guide's profiles constrain.
    pub fn base_standard(mut self, dir: impl AsRef<Path>) -> Self {
        self.base_dir = dir.as_ref().to_path_buf();
        self
    }

    /// The folder of example messages that the `violations` of hand files name: when given,
    /// a violation naming a file it lacks is a spec error.
    pub fn fixtures(mut self, dir: impl AsRef<Path>) -> Self {
        self.fixtures_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The path generated code uses for the runtime crate (default `::hl7_runtime`).
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = path.into();
        self
    }

    /// Only these profiles (by id, e.g. `flux1_orm_o01_nw`); default: every profile of the spec.
    pub fn profiles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.profiles = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Where [`Config::build`] writes (default: `OUT_DIR`).
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The checked model, for tools that want to look at the spec rather than emit code.
    pub fn model(&self) -> Result<model::Model, SpecErrors> {
        let folders = model::Folders { guide: &self.guide_dir, base: &self.base_dir, fixtures: self.fixtures_dir.as_deref() };
        model::load(&folders, self.profiles.as_deref())
    }

    /// Every generated file by name, formatted. Pure: reads the spec, writes nothing.
    pub fn generate(&self) -> Result<BTreeMap<String, String>, BuildError> {
        Ok(self.generate_with_files()?.0)
    }

    fn generate_with_files(&self) -> Result<(BTreeMap<String, String>, Vec<String>), BuildError> {
        let model = self.model()?;
        let rt: syn::Path = syn::parse_str(&self.runtime_path).map_err(|_| BuildError::RuntimePath(self.runtime_path.clone()))?;
        let rt = quote::quote! { #rt };
        let files = emit::Emit { model: &model, rt }.files();
        Ok((files, model.files.clone()))
    }

    /// Where a file of [`model::Model::files`] (`<folder>/<file>`) is on disk.
    fn spec_file(&self, rel: &str) -> PathBuf {
        let (folder, name) = rel.split_once('/').unwrap_or(("", rel));
        if model::folder_label(&self.base_dir) == folder {
            self.base_dir.join(name)
        } else {
            self.guide_dir.join(name)
        }
    }

    /// Generates into the output folder, rewriting only files whose content changed, and tells
    /// cargo to rerun when one of the spec files actually read changes.
    pub fn build(&self) -> Result<(), BuildError> {
        let in_build_script = self.out_dir.is_none();
        let out = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or(BuildError::NoOutDir)?,
        };
        let result = self.generate_with_files();
        // Even a failing spec must be watched, or fixing it would not trigger a rebuild.
        let read = match &result {
            Ok((_, read)) => read.clone(),
            Err(_) => self.model().map(|m| m.files).unwrap_or_default(),
        };
        if in_build_script {
            for f in &read {
                println!("cargo:rerun-if-changed={}", self.spec_file(f).display());
            }
        }
        let (files, _) = result?;
        std::fs::create_dir_all(&out).map_err(|source| BuildError::Write { path: out.clone(), source })?;
        for (name, text) in files {
            let path = out.join(name);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&path, text).map_err(|source| BuildError::Write { path, source })?;
            }
        }
        Ok(())
    }
}
