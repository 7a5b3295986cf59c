//! The model store: named models and their versions on disk, one active version per name served
//! from memory, the previous one kept loaded for a one-call rollback, and an optional candidate
//! that shadows the active one on a sample of live inputs before it is promoted.
//!
//! On disk: `DIR/index.json` (which versions exist, which is active and previous) and
//! `DIR/NAME/VERSION.onnx`. Every write is a new file that is synced and then renamed over the
//! old one, so a crash or kill at any point leaves either the old state or the new one: never
//! a half-written model or index.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::clock::Instant;
use crate::error::{Error, Result};
use crate::options::LoadOptions;
use crate::serving::stats::{percentile, Stats};
use crate::tasks::{ClassifyOptions, Prediction};
use crate::Model;

/// A loaded version of a named model. Calls hold an `Arc` of it, so a call in flight finishes on
/// the version it started with while another is activated.
pub struct Versioned {
    /// The version's name, as installed.
    pub version: String,
    /// The loaded model (its [`Model::stats`] are this version's).
    pub model: Model,
}

/// A result and the version that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Served {
    /// The version that computed `predictions`.
    pub version: String,
    /// Its predictions.
    pub predictions: Vec<Prediction>,
}

/// When a candidate shadows the active version and what promotes or rejects it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ShadowPolicy {
    /// Share of live calls the candidate also runs on, in (0, 1] (default 0.1).
    #[cfg_attr(feature = "uniffi", uniffi(default = 0.1))]
    pub sample_rate: f64,
    /// Samples needed before a decision (default 50).
    #[cfg_attr(feature = "uniffi", uniffi(default = 50))]
    pub min_samples: u64,
    /// Top-1 agreement with the active version needed to promote, in [0, 1] (default 0.95).
    #[cfg_attr(feature = "uniffi", uniffi(default = 0.95))]
    pub min_agreement: f64,
    /// Highest candidate p95 / active p95 latency ratio that promotes (default 1.2).
    #[cfg_attr(feature = "uniffi", uniffi(default = 1.2))]
    pub max_latency_ratio: f64,
    /// Promote or reject automatically once `min_samples` are in (default true); `false`
    /// leaves the decision to the app ([`ModelStore::shadow_report`], then
    /// [`ModelStore::activate`]).
    #[cfg_attr(feature = "uniffi", uniffi(default = true))]
    pub auto_decide: bool,
    /// Run the candidate on a background thread (default false), so a sampled call returns as
    /// soon as the active version's result is ready; a promotion decided there takes effect at
    /// the next call. Without threads (wasm32) the candidate runs on the caller's thread.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub background: bool,
}

impl Default for ShadowPolicy {
    fn default() -> Self {
        ShadowPolicy {
            sample_rate: 0.1,
            min_samples: 50,
            min_agreement: 0.95,
            max_latency_ratio: 1.2,
            auto_decide: true,
            background: false,
        }
    }
}

/// How a candidate compares with the active version so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ShadowReport {
    /// The candidate version.
    pub candidate: String,
    /// The active version it was compared with.
    pub active: String,
    /// Inputs both ran on.
    pub samples: u64,
    /// Share of samples with the same top-1 class.
    pub agreement: f64,
    /// Mean |candidate score − active score| of the active top-1 class.
    pub mean_abs_score_delta: f64,
    /// Candidate p95 latency / active p95 latency on the samples.
    pub latency_ratio: f64,
    /// `pending`, `promoting` (decided in the background: active from the next call),
    /// `promoted` or `rejected`.
    pub decision: String,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Entry {
    active: Option<String>,
    previous: Option<String>,
    versions: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    format: u32,
    models: BTreeMap<String, Entry>,
}

struct Shadow {
    version: Arc<Versioned>,
    policy: ShadowPolicy,
    calls: u64,
    agree: u64,
    delta_sum: f64,
    active_ms: Vec<f64>,
    candidate_ms: Vec<f64>,
    decision: &'static str,
}

#[derive(Default)]
struct Slot {
    active: Option<Arc<Versioned>>,
    previous: Option<Arc<Versioned>>,
    shadow: Option<Shadow>,
}

/// The installed bytes of a store in memory, by `(name, version)`.
type InMemory = BTreeMap<(String, String), Arc<[u8]>>;

/// Named, versioned models on disk (or in memory) with hot swap, rollback and shadow runs.
/// `Send + Sync`.
pub struct ModelStore {
    /// `None` for a store in memory ([`ModelStore::in_memory`]).
    dir: Option<PathBuf>,
    /// The installed bytes of a store in memory, by `(name, version)`.
    memory: Mutex<InMemory>,
    options: LoadOptions,
    slots: RwLock<BTreeMap<String, Arc<Mutex<Slot>>>>,
    /// Serializes writers of the index (install, activate, rollback).
    index: Mutex<Index>,
}

/// A store name or version: letters, digits, `.`, `_`, `-` (no path separators), not starting
/// with a dot.
fn check_name(what: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "a model {what} is 1–128 letters, digits, '.', '_' or '-' (not starting with '.'), \
             got {s:?}"
        )))
    }
}

/// Writes `bytes` to `path` atomically: a synced temporary file renamed over it, then the
/// directory synced.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable once the directory is synced (POSIX).
        if let Ok(d) = File::open(dir) {
            d.sync_all().ok();
        }
        Ok(())
    };
    write().map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        Error::io(path, e)
    })
}

impl ModelStore {
    /// Opens (or creates) a store in `dir`; every model is loaded with `options` (give
    /// `trusted_keys` to accept signed models only). The active and previous version of each
    /// name are loaded now.
    ///
    /// # Errors
    /// [`Error::Io`] when the folder or its index cannot be read or created;
    /// [`Error::InvalidArgument`] for a malformed index; the load errors of an active version.
    pub fn open(dir: impl AsRef<Path>, options: &LoadOptions) -> Result<ModelStore> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join("index.json");
        let index = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Index>(&bytes).map_err(|e| {
                Error::InvalidArgument(format!(
                    "{}: not a Ledge model store index ({e})",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index {
                format: 1,
                ..Index::default()
            },
            Err(e) => return Err(Error::io(&path, e)),
        };
        let store = ModelStore {
            dir: Some(dir),
            memory: Mutex::default(),
            options: options.clone(),
            slots: RwLock::default(),
            index: Mutex::new(Index::default()),
        };
        let mut slots = BTreeMap::new();
        for (name, entry) in &index.models {
            let load = |v: &Option<String>| {
                v.as_ref()
                    .map(|v| store.load_version(name, v).map(Arc::new))
                    .transpose()
            };
            let slot = Slot {
                active: load(&entry.active)?,
                previous: load(&entry.previous)?,
                shadow: None,
            };
            slots.insert(name.clone(), Arc::new(Mutex::new(slot)));
        }
        *store.slots.write().unwrap_or_else(|p| p.into_inner()) = slots;
        *store.index.lock().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(store)
    }

    /// A store that keeps the installed bytes in memory only: the same API for a platform
    /// without a file system (a browser page, which persists the bytes itself, e.g. in
    /// IndexedDB, and installs them again at start).
    pub fn in_memory(options: &LoadOptions) -> ModelStore {
        ModelStore {
            dir: None,
            memory: Mutex::default(),
            options: options.clone(),
            slots: RwLock::default(),
            index: Mutex::new(Index {
                format: 1,
                ..Index::default()
            }),
        }
    }

    fn model_path(dir: &Path, name: &str, version: &str) -> PathBuf {
        dir.join(name).join(format!("{version}.onnx"))
    }

    fn load_version(&self, name: &str, version: &str) -> Result<Versioned> {
        let model = match &self.dir {
            Some(dir) => Model::from_path(Self::model_path(dir, name, version), &self.options)?,
            None => {
                let key = (name.to_string(), version.to_string());
                let bytes = self
                    .memory
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&key)
                    .cloned()
                    .ok_or_else(|| {
                        Error::InvalidArgument(format!("{name} has no installed version {version}"))
                    })?;
                Model::from_bytes(&bytes, &self.options)?
            }
        };
        Ok(Versioned {
            version: version.to_string(),
            model,
        })
    }

    fn slot(&self, name: &str) -> Arc<Mutex<Slot>> {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slots.get(name) {
            return s.clone();
        }
        drop(slots);
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        slots.entry(name.to_string()).or_default().clone()
    }

    fn save(&self, index: &Index) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let json = serde_json::to_vec_pretty(index).unwrap_or_default();
        write_atomic(&dir.join("index.json"), &json)
    }

    /// Installs `bytes` (a model the app downloaded) as `version` of `name`, without activating
    /// it. The bytes are loaded first (so a model that does not load, whose signature is not
    /// trusted, or whose manifest does not fit it, is refused before anything is written), then
    /// written atomically.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad name or version, or a version that exists; every
    /// load error of [`Model::from_bytes`]; [`Error::Manifest`] for a manifest that does not fit
    /// the model ([`Model::manifest_problem`]: it could not serve its task); [`Error::Io`] when
    /// writing fails.
    pub fn install(&self, name: &str, version: &str, bytes: &[u8]) -> Result<()> {
        check_name("name", name)?;
        check_name("version", version)?;
        let model = Model::from_bytes(bytes, &self.options)?;
        if let Some(problem) = model.manifest_problem() {
            return Err(Error::Manifest(format!(
                "{problem} (a version is installed only if it can serve its task)"
            )));
        }
        drop(model);
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let entry = index.models.entry(name.to_string()).or_default();
        if entry.versions.iter().any(|v| v == version) {
            return Err(Error::InvalidArgument(format!(
                "{name} {version} is installed already: versions are immutable, install under \
                 a new version"
            )));
        }
        match &self.dir {
            Some(dir) => {
                let path = Self::model_path(dir, name, version);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                }
                write_atomic(&path, bytes)?;
            }
            None => {
                let key = (name.to_string(), version.to_string());
                self.memory
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key, bytes.into());
            }
        }
        entry.versions.push(version.to_string());
        self.save(&index)
    }

    /// Makes `version` the active one: it serves every new call, the old active one becomes the
    /// previous (still loaded, for [`ModelStore::rollback`]). Calls in flight finish on the
    /// version they started with. A candidate of the same version is dropped.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a version that is not installed; its load errors.
    pub fn activate(&self, name: &str, version: &str) -> Result<()> {
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let entry = index.models.get(name).cloned().unwrap_or_default();
        if !entry.versions.iter().any(|v| v == version) {
            return Err(Error::InvalidArgument(format!(
                "{name} has no installed version {version:?} (installed: {:?}): install it first",
                entry.versions
            )));
        }
        let slot = self.slot(name);
        let current = slot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .active
            .clone();
        if current.as_ref().is_some_and(|a| a.version == version) {
            return Ok(());
        }
        let shadowed = {
            let s = slot.lock().unwrap_or_else(|p| p.into_inner());
            s.shadow
                .as_ref()
                .filter(|sh| sh.version.version == version)
                .map(|sh| sh.version.clone())
        };
        let loaded = match shadowed {
            Some(v) => v,
            None => Arc::new(self.load_version(name, version)?),
        };
        let e = index.models.entry(name.to_string()).or_default();
        e.previous = e.active.take();
        e.active = Some(version.to_string());
        self.save(&index)?;
        let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
        s.previous = s.active.take();
        s.active = Some(loaded);
        if s.shadow
            .as_ref()
            .is_some_and(|sh| sh.version.version == version)
        {
            s.shadow = None;
        }
        Ok(())
    }

    /// Swaps the active and the previous version back, in one call.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `name` has no previous version.
    pub fn rollback(&self, name: &str) -> Result<()> {
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let Some(e) = index.models.get_mut(name).filter(|e| e.previous.is_some()) else {
            return Err(Error::InvalidArgument(format!(
                "{name} has no previous version to roll back to"
            )));
        };
        std::mem::swap(&mut e.active, &mut e.previous);
        self.save(&index)?;
        let slot = self.slot(name);
        let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
        let Slot {
            active, previous, ..
        } = &mut *s;
        std::mem::swap(active, previous);
        Ok(())
    }

    /// The active version of `name` (hold it for as long as a call needs one version).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `name` has no active version.
    pub fn active(&self, name: &str) -> Result<Arc<Versioned>> {
        self.slot(name)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .active
            .clone()
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{name} has no active version: install and activate one"
                ))
            })
    }

    /// The usage statistics of a loaded version of `name` — the active one, the previous one
    /// (kept for rollback) or the shadow candidate — since it was loaded: what to compare
    /// before promoting, or to watch after a swap (drift, errors, latency, confidence).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `version` is none of those (not installed, or installed
    /// but not loaded).
    pub fn stats(&self, name: &str, version: &str) -> Result<Stats> {
        let slot = self.slot(name);
        let slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        let loaded = [
            slot.active.as_ref(),
            slot.previous.as_ref(),
            slot.shadow.as_ref().map(|s| &s.version),
        ];
        let found = loaded
            .into_iter()
            .flatten()
            .find(|v| v.version == version)
            .map(|v| v.model.stats());
        found.ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{name} {version} is not loaded: statistics are kept for the active, the \
                 previous and the candidate version ({})",
                loaded
                    .into_iter()
                    .flatten()
                    .map(|v| v.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// The installed versions of `name`, its active and its previous one.
    pub fn versions(&self, name: &str) -> (Vec<String>, Option<String>, Option<String>) {
        let index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        index
            .models
            .get(name)
            .map(|e| (e.versions.clone(), e.active.clone(), e.previous.clone()))
            .unwrap_or_default()
    }

    /// Lets installed `version` shadow the active version of `name` on a sample of
    /// [`ModelStore::classify_encoded`] calls, as `policy` says.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a version that is not installed or a policy out of range;
    /// its load errors.
    pub fn set_candidate(&self, name: &str, version: &str, policy: ShadowPolicy) -> Result<()> {
        let in_range = policy.sample_rate > 0.0
            && policy.sample_rate <= 1.0
            && (0.0..=1.0).contains(&policy.min_agreement)
            && policy.max_latency_ratio > 0.0;
        if !in_range {
            return Err(Error::InvalidArgument(format!(
                "a shadow policy needs sample_rate in (0, 1], min_agreement in [0, 1] and \
                 max_latency_ratio > 0, got {policy:?}"
            )));
        }
        if !self.versions(name).0.iter().any(|v| v == version) {
            return Err(Error::InvalidArgument(format!(
                "{name} has no installed version {version:?}: install it first"
            )));
        }
        let candidate = Arc::new(self.load_version(name, version)?);
        let slot = self.slot(name);
        slot.lock().unwrap_or_else(|p| p.into_inner()).shadow = Some(Shadow {
            version: candidate,
            policy,
            calls: 0,
            agree: 0,
            delta_sum: 0.0,
            active_ms: vec![],
            candidate_ms: vec![],
            decision: "pending",
        });
        Ok(())
    }

    /// How the candidate of `name` compares so far (`None` without one).
    pub fn shadow_report(&self, name: &str) -> Option<ShadowReport> {
        let slot = self.slot(name);
        let s = slot.lock().unwrap_or_else(|p| p.into_inner());
        let sh = s.shadow.as_ref()?;
        Some(report(
            sh,
            s.active.as_ref().map_or("", |a| a.version.as_str()),
        ))
    }

    /// Classifies with the active version of `name`; the result says which version computed
    /// it. When a candidate is set, it also runs on a sample of calls — after the active one on
    /// the caller's thread, or on a background thread with [`ShadowPolicy::background`] — and
    /// is promoted or rejected as its policy says.
    ///
    /// # Errors
    /// As [`ModelStore::active`] and [`Model::classify_encoded`] (a candidate's own failure is
    /// counted against it, never returned).
    pub fn classify_encoded(
        &self,
        name: &str,
        bytes: &[u8],
        options: &ClassifyOptions,
    ) -> Result<Served> {
        self.promote_pending(name);
        let active = self.active(name)?;
        let started = Instant::now();
        let predictions = active.model.classify_encoded(bytes, options)?;
        let active_ms = started.elapsed().as_secs_f64() * 1e3;
        let served = Served {
            version: active.version.clone(),
            predictions,
        };
        self.shadow(name, &active, bytes, &served.predictions, active_ms);
        Ok(served)
    }

    /// Runs the candidate on a sampled call and decides when the policy allows.
    fn shadow(
        &self,
        name: &str,
        active: &Versioned,
        bytes: &[u8],
        predictions: &[Prediction],
        active_ms: f64,
    ) {
        let slot = self.slot(name);
        let (candidate, background) = {
            let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
            let Some(sh) = s.shadow.as_mut().filter(|sh| sh.decision == "pending") else {
                return;
            };
            sh.calls += 1;
            // Deterministic sampling: every call whose running share falls behind the rate.
            let due = (sh.calls as f64 * sh.policy.sample_rate).floor()
                > ((sh.calls - 1) as f64 * sh.policy.sample_rate).floor();
            if !due {
                return;
            }
            (sh.version.clone(), sh.policy.background)
        };
        let top = predictions.first().cloned();
        let active_version = active.version.clone();
        if background && cfg!(not(target_arch = "wasm32")) {
            let bytes = bytes.to_vec();
            std::thread::spawn(move || {
                measure(
                    &slot,
                    &candidate,
                    &bytes,
                    top,
                    active_ms,
                    &active_version,
                    true,
                );
            });
            return;
        }
        if let Some(version) = measure(
            &slot,
            &candidate,
            bytes,
            top,
            active_ms,
            &active_version,
            false,
        ) {
            self.promote(name, &version);
        }
    }

    /// Activates a promoted candidate (logged, not returned: the caller's result is served).
    fn promote(&self, name: &str, version: &str) {
        if let Err(e) = self.activate(name, version) {
            log::warn!("promoting {name} {version} failed: {e}");
        }
    }

    /// A candidate that a background run promoted becomes active at the next call.
    fn promote_pending(&self, name: &str) {
        let slot = self.slot(name);
        let pending = {
            let s = slot.lock().unwrap_or_else(|p| p.into_inner());
            s.shadow
                .as_ref()
                .filter(|sh| sh.decision == "promoting")
                .map(|sh| sh.version.version.clone())
        };
        if let Some(version) = pending {
            self.promote(name, &version);
        }
    }
}

/// Runs the candidate on one sampled input, records the comparison, and decides when the
/// policy says so: returns the version to promote (`background`: marked `promoting`, activated
/// at the next call).
fn measure(
    slot: &Mutex<Slot>,
    candidate: &Versioned,
    bytes: &[u8],
    top: Option<Prediction>,
    active_ms: f64,
    active_version: &str,
    background: bool,
) -> Option<String> {
    let options = ClassifyOptions {
        max_results: u32::MAX,
        ..ClassifyOptions::default()
    };
    let started = Instant::now();
    let theirs = candidate.model.classify_encoded(bytes, &options);
    let candidate_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
    let sh = s
        .shadow
        .as_mut()
        .filter(|sh| sh.version.version == candidate.version && sh.decision == "pending")?;
    let (agree, delta) = match (&theirs, &top) {
        (Ok(theirs), Some(top)) => {
            let same = theirs.first().is_some_and(|t| t.index == top.index);
            let score = theirs
                .iter()
                .find(|t| t.index == top.index)
                .map_or(0.0, |t| t.score);
            (same, f64::from((score - top.score).abs()))
        }
        _ => (false, 1.0),
    };
    sh.agree += u64::from(agree);
    sh.delta_sum += delta;
    sh.active_ms.push(active_ms);
    sh.candidate_ms.push(candidate_ms);
    let samples = sh.active_ms.len() as u64;
    if !sh.policy.auto_decide || samples < sh.policy.min_samples {
        return None;
    }
    let r = report(sh, active_version);
    let promote =
        r.agreement >= sh.policy.min_agreement && r.latency_ratio <= sh.policy.max_latency_ratio;
    if !promote {
        sh.decision = "rejected";
        log::warn!(
            "{} rejected: agreement {:.3}, latency ratio {:.2}",
            candidate.version,
            r.agreement,
            r.latency_ratio
        );
        return None;
    }
    sh.decision = if background { "promoting" } else { "promoted" };
    (!background).then(|| candidate.version.clone())
}

fn report(sh: &Shadow, active: &str) -> ShadowReport {
    let n = sh.active_ms.len() as u64;
    let p95 = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        percentile(&v, 95.0)
    };
    let (a, c) = (p95(&sh.active_ms), p95(&sh.candidate_ms));
    ShadowReport {
        candidate: sh.version.version.clone(),
        active: active.to_string(),
        samples: n,
        agreement: if n == 0 {
            0.0
        } else {
            sh.agree as f64 / n as f64
        },
        mean_abs_score_delta: if n == 0 { 0.0 } else { sh.delta_sum / n as f64 },
        latency_ratio: if a > 0.0 { c / a } else { 1.0 },
        decision: sh.decision.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_store() {
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert_eq!(
                check_name("name", bad).unwrap_err().kind(),
                "InvalidArgument"
            );
        }
        assert!(check_name("version", "1.2.0-rc_1").is_ok());
    }

    #[test]
    fn a_version_whose_manifest_does_not_fit_is_not_installed() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../demo-models/ppocr-cls/model.onnx"
        ))
        .unwrap();
        let store = ModelStore::in_memory(&LoadOptions {
            labels: Some(vec!["0°".into(), "180°".into(), "90°".into()]),
            ..LoadOptions::default()
        });
        let e = store.install("ocr", "1", &bytes).unwrap_err();
        assert_eq!(e.kind(), "Manifest", "{e}");
        assert!(e.to_string().contains("3 labels"), "{e}");
        assert_eq!(store.versions("ocr").0, Vec::<String>::new());
    }

    #[test]
    fn a_store_in_memory_installs_activates_and_rolls_back() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../demo-models/ppocr-cls/model.onnx"
        ))
        .unwrap();
        let store = ModelStore::in_memory(&LoadOptions::default());
        store.install("ocr", "1", &bytes).unwrap();
        store.install("ocr", "2", &bytes).unwrap();
        store.activate("ocr", "1").unwrap();
        store.activate("ocr", "2").unwrap();
        store.rollback("ocr").unwrap();
        assert_eq!(store.active("ocr").unwrap().version, "1");
        assert_eq!(store.versions("ocr").2.as_deref(), Some("2"));
        assert_eq!(
            store.activate("ocr", "3").unwrap_err().kind(),
            "InvalidArgument"
        );
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
