//! The model store as a uniffi object: named, versioned models with hot swap, rollback and
//! shadow runs (core [`ledge::ModelStore`]), each method a delegation through [`ffi`].

use std::sync::Arc;

use ledge::{ClassifyOptions, LoadOptions, Served, ShadowPolicy, ShadowReport, Stats};

use crate::{ffi, LedgeError};

/// The installed versions of a model name, its active and its previous one (core
/// [`ledge::ModelStore::versions`]).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelVersions {
    /// Every installed version, in install order.
    pub versions: Vec<String>,
    /// The version that serves calls (`None` before the first activation).
    pub active: Option<String>,
    /// The version [`ModelStore::rollback`] returns to (`None` before the second activation).
    pub previous: Option<String>,
}

/// Named, versioned models on disk or in memory (core [`ledge::ModelStore`]): install a
/// downloaded model under a version, activate it while other threads keep classifying (calls in
/// flight finish on the version they started with), roll back in one call, and let a candidate
/// shadow the active version before it is promoted. Thread-safe.
#[derive(uniffi::Object)]
pub struct ModelStore(ledge::ModelStore);

#[uniffi::export]
impl ModelStore {
    /// Opens (or creates) a store in the folder `dir`; every version is loaded with `options`
    /// (give `trusted_keys` to accept signed models only). The active and previous version of
    /// each name are loaded now.
    #[uniffi::constructor]
    pub fn open(dir: String, options: LoadOptions) -> Result<Arc<ModelStore>, LedgeError> {
        ffi(|| {
            Ok(Arc::new(ModelStore(ledge::ModelStore::open(
                &dir, &options,
            )?)))
        })
    }

    /// A store that keeps the installed bytes in memory only (nothing is written; install the
    /// versions again after a restart).
    #[uniffi::constructor]
    pub fn in_memory(options: LoadOptions) -> Result<Arc<ModelStore>, LedgeError> {
        ffi(|| Ok(Arc::new(ModelStore(ledge::ModelStore::in_memory(&options)))))
    }

    /// Installs `bytes` (a model the app downloaded) as `version` of `name`, without activating
    /// it. A model that does not load with the store's options (or whose signature is not
    /// trusted) is refused before anything is written; versions are immutable.
    pub fn install(&self, name: String, version: String, bytes: Vec<u8>) -> Result<(), LedgeError> {
        ffi(|| self.0.install(&name, &version, &bytes))
    }

    /// Makes installed `version` the active one of `name`; the old active one becomes the
    /// previous (still loaded, for `rollback`).
    pub fn activate(&self, name: String, version: String) -> Result<(), LedgeError> {
        ffi(|| self.0.activate(&name, &version))
    }

    /// Swaps the active and the previous version of `name` back. `InvalidArgument` without a
    /// previous version.
    pub fn rollback(&self, name: String) -> Result<(), LedgeError> {
        ffi(|| self.0.rollback(&name))
    }

    /// The active version of `name`. `InvalidArgument` when none is active.
    pub fn active_version(&self, name: String) -> Result<String, LedgeError> {
        ffi(|| Ok(self.0.active(&name)?.version.clone()))
    }

    /// The installed versions of `name`, its active and its previous one (all empty for an
    /// unknown name).
    pub fn versions(&self, name: String) -> Result<ModelVersions, LedgeError> {
        ffi(|| {
            let (versions, active, previous) = self.0.versions(&name);
            Ok(ModelVersions {
                versions,
                active,
                previous,
            })
        })
    }

    /// Lets installed `version` shadow the active version of `name` on a sample of
    /// `classify_encoded` calls; `policy` says how many and what promotes or rejects it.
    pub fn set_candidate(
        &self,
        name: String,
        version: String,
        policy: ShadowPolicy,
    ) -> Result<(), LedgeError> {
        ffi(|| self.0.set_candidate(&name, &version, policy))
    }

    /// How the candidate of `name` compares with the active version so far (`None` without a
    /// candidate).
    pub fn shadow_report(&self, name: String) -> Result<Option<ShadowReport>, LedgeError> {
        ffi(|| Ok(self.0.shadow_report(&name)))
    }

    /// The usage statistics of a loaded `version` of `name` since it was loaded: the active
    /// one, the previous one (kept for rollback) or the shadow candidate, each with its own
    /// counts. `InvalidArgument` for any other version (not installed, or not loaded).
    pub fn stats(&self, name: String, version: String) -> Result<Stats, LedgeError> {
        ffi(|| self.0.stats(&name, &version))
    }

    /// Classifies an encoded image (JPEG, PNG, WebP, BMP, GIF) with the active version of `name`:
    /// its predictions and the version that computed them.
    pub fn classify_encoded(
        &self,
        name: String,
        bytes: Vec<u8>,
        options: ClassifyOptions,
    ) -> Result<Served, LedgeError> {
        ffi(|| self.0.classify_encoded(&name, &bytes, &options))
    }
}
