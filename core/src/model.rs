//! [`Model`]: a loaded model and the tasks it serves. It ties the layers together: the
//! [`engine`](crate::engine) runs, [`vision`](crate::vision) prepares images,
//! [`tasks`](crate::tasks) reads outputs, [`serving`](crate::serving) records.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::clock::Instant;
use crate::engine::{self, Engine, ModelInfo, Profile};
use crate::error::{Error, Limit, Result};
use crate::manifest::{Layout, Manifest, Task};
use crate::options::LoadOptions;
use crate::serving::cache::{self, CacheValue, ResultCache};
use crate::serving::{Outcome, Recorder, Stats};
use crate::tasks::classify::{self, ClassifyOptions, Prediction};
use crate::tasks::detect::{self, DetectOptions, Detection, Geometry};
use crate::tasks::embed::{self, Embedding};
use crate::tensor::{Tensor, TensorData};
use crate::vision::{self, Frame, Upright};

/// Plans for other input shapes (batch sizes, values of dynamic dimensions) a model keeps at
/// once (built on demand, least recently used first out).
pub const MAX_BATCH_PLANS: usize = 4;

/// One shape per model input.
type Shapes = Vec<Vec<usize>>;

/// A loaded and optimized model. `Send + Sync`: load once, share across threads; every method
/// takes `&self`.
pub struct Model {
    engine: Arc<Engine>,
    info: ModelInfo,
    options: LoadOptions,
    /// The model bytes, to plan other batch sizes on demand.
    bytes: Arc<[u8]>,
    /// The model file's folder, where its external data is (`None` when loaded from bytes).
    dir: Option<std::path::PathBuf>,
    /// Plans for other input shapes, made on demand: other batch sizes (`None` when the graph
    /// cannot take them) and other values of dynamic dimensions; least recently used first out.
    plans: Mutex<Vec<(Shapes, Option<Arc<Engine>>)>>,
    /// Why the manifest does not fit the model (e.g. 3 labels for 4 classes): every task call
    /// returns it as [`Error::Manifest`], while `run` and `info` work as for a model without one.
    manifest_problem: Option<String>,
    stats: Mutex<Recorder>,
    cache: Option<Mutex<ResultCache>>,
}

/// Locks a mutex whose data stays valid even if a holder panicked (counters and caches).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Model {
    /// Loads a model from a file. A manifest beside it with the same stem and a `.toml`
    /// extension (`model.onnx` → `model.toml`) is used unless [`LoadOptions::manifest`] is set;
    /// otherwise the embedded manifest, if any. Tensors stored as ONNX external data
    /// (`model.onnx.data`, as PyTorch 2's exporter writes them) are read from the model's folder;
    /// their bytes count against [`crate::Limits::max_model_bytes`] with the model's.
    ///
    /// # Errors
    /// [`Error::Io`] when the file or its external data cannot be read; [`Error::ModelFormat`]
    /// for an external data location that is absolute or leaves the model's folder; every error
    /// of [`Model::from_bytes`].
    pub fn from_path(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Model> {
        let path = path.as_ref();
        let size = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len();
        options.limits.check(Limit::MaxModelBytes, size)?;
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let sidecar = match (&options.manifest, &options.manifest_path) {
            (None, None) => engine::sidecar_manifest(path)?,
            _ => None,
        };
        Model::load(&bytes, path.parent(), options, sidecar)
    }

    /// Loads a model from ONNX bytes (manifest from the options or embedded).
    ///
    /// # Errors
    /// [`Error::ModelFormat`] / [`Error::UnsupportedOperator`] for bytes that are no model tract
    /// can run, or external data (weights in a file beside the model: load it from its path);
    /// [`Error::LimitExceeded`] before any large allocation; [`Error::Manifest`] for an invalid
    /// manifest or a classifier declared `logits` whose scores come from a Softmax (a manifest
    /// that does not fit the model's outputs loads, see [`Model::manifest_problem`]);
    /// [`Error::Integrity`] when the
    /// manifest's sha256 is not the model's; [`Error::Signature`] when trusted keys are given
    /// and the package is not signed by one of them; [`Error::Optimization`] when the engine
    /// cannot prepare the graph.
    pub fn from_bytes(bytes: &[u8], options: &LoadOptions) -> Result<Model> {
        Model::load(bytes, None, options, None)
    }

    fn load(
        bytes: &[u8],
        dir: Option<&Path>,
        options: &LoadOptions,
        sidecar: Option<Manifest>,
    ) -> Result<Model> {
        let (engine, info) = Engine::load(bytes, dir, options, sidecar)?;
        let manifest_problem = match check_manifest_fits(&info) {
            Err(Error::Manifest(problem)) => {
                log::warn!("the manifest does not fit the model: {problem}");
                Some(problem)
            }
            other => {
                other?;
                None
            }
        };
        Ok(Model {
            manifest_problem,
            engine: Arc::new(engine),
            info,
            options: options.clone(),
            bytes: bytes.into(),
            dir: dir.map(Path::to_path_buf),
            plans: Mutex::default(),
            stats: Mutex::default(),
            cache: options
                .cache
                .as_ref()
                .map(|c| Mutex::new(ResultCache::new(c))),
        })
    }

    /// What Ledge knows about the model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Why the manifest does not fit the model (labels ≠ classes, an output it names that does
    /// not exist or is not f32, anchors ≠ rows), if it does not. Such a model still loads, so
    /// [`Model::run`] and [`Model::info`] work; every task call returns this as
    /// [`Error::Manifest`].
    pub fn manifest_problem(&self) -> Option<&str> {
        self.manifest_problem.as_deref()
    }

    /// Usage statistics since load: calls, latency percentiles, errors by kind, cache hits,
    /// confidence and class histograms, entropy, and drift against the manifest's baseline.
    pub fn stats(&self) -> Stats {
        let cache = self.cache.as_ref().map_or((0, 0), |c| {
            let c = lock(c);
            (c.hits, c.misses)
        });
        let baseline = self
            .info
            .manifest
            .as_ref()
            .and_then(|m| m.baseline.as_ref());
        lock(&self.stats).snapshot(baseline, cache)
    }

    /// Runs the model on raw tensors, one per input in order.
    ///
    /// # Errors
    /// [`Error::InputCount`], [`Error::InputShape`], [`Error::InputType`] and
    /// [`Error::LimitExceeded`] (`max_tensor_elements`) are checked before anything runs;
    /// [`Error::Inference`] when the engine fails.
    ///
    /// A model whose graph leaves dimensions dynamic (a symbolic height and width) runs at the
    /// shapes of the tensors it is given: a plan for each new set of shapes is made on first
    /// use (the last [`MAX_BATCH_PLANS`] are kept). The load options' limits apply to each.
    pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.serve(None, false, || {
            let engine = self.shape_engine(inputs)?;
            Ok((engine.run(inputs)?, Outcome::default()))
        })
    }

    /// The engine for `inputs`' shapes: the model's own, or a plan for new values of its
    /// dynamic dimensions (made once and kept).
    fn shape_engine(&self, inputs: &[Tensor]) -> Result<Arc<Engine>> {
        let shapes: Vec<&[usize]> = inputs.iter().map(Tensor::shape).collect();
        if !self.engine.replannable(&shapes) {
            return Ok(self.engine.clone());
        }
        let key: Shapes = shapes.iter().map(|s| s.to_vec()).collect();
        let plan = self.plan(key, |options| {
            let (engine, _) = Engine::load(&self.bytes, self.dir.as_deref(), &options, None)?;
            Ok(Some(Arc::new(engine)))
        })?;
        Ok(plan.unwrap_or_else(|| self.engine.clone()))
    }

    /// The plan for `shapes`: a kept one, or the one `make` makes from the load options for
    /// them (kept, [`MAX_BATCH_PLANS`] at most, least recently used first out; an error is not
    /// kept).
    fn plan(
        &self,
        shapes: Shapes,
        make: impl FnOnce(LoadOptions) -> Result<Option<Arc<Engine>>>,
    ) -> Result<Option<Arc<Engine>>> {
        let mut plans = lock(&self.plans);
        if let Some(i) = plans.iter().position(|(k, _)| *k == shapes) {
            let entry = plans.remove(i);
            let plan = entry.1.clone();
            plans.push(entry);
            return Ok(plan);
        }
        let plan = make(self.replan_options(&shapes))?;
        if plans.len() == MAX_BATCH_PLANS {
            plans.remove(0);
        }
        plans.push((shapes, plan.clone()));
        Ok(plan)
    }

    /// Decodes an encoded image (JPEG, PNG, WebP, BMP, GIF), preprocesses it as the manifest
    /// says, runs the model and returns the best classes as `options` says. With a cache
    /// ([`LoadOptions::cache`]), the same bytes and options return the cached result.
    ///
    /// # Errors
    /// [`Error::ImageDecode`] / [`Error::LimitExceeded`] for the image; [`Error::Manifest`]
    /// without a manifest; [`Error::TaskMismatch`] for a model that is no single-image
    /// classifier; the errors of [`Model::classify_tensor`].
    pub fn classify_encoded(
        &self,
        bytes: &[u8],
        options: &ClassifyOptions,
    ) -> Result<Vec<Prediction>> {
        let key = self.key("classify", options, &[bytes]);
        self.serve(key, true, || {
            let img = self.decode(bytes)?;
            let (tensor, _) = self.image_input(&img, Task::Classify)?;
            self.classify_scores(&tensor, options)
        })
    }

    /// Like [`Model::classify_encoded`] for a tightly packed RGBA frame (camera, canvas) of
    /// `width × height` pixels (`rgba.len() = width · height · 4`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the buffer does not match its size; as
    /// [`Model::classify_encoded`] otherwise.
    pub fn classify_rgba(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        options: &ClassifyOptions,
    ) -> Result<Vec<Prediction>> {
        let size = [width.to_le_bytes(), height.to_le_bytes()].concat();
        let key = self.key("classify_rgba", options, &[rgba, &size]);
        self.serve(key, true, || {
            let img = self.rgba(rgba, width, height)?;
            let (tensor, _) = self.image_input(&img, Task::Classify)?;
            self.classify_scores(&tensor, options)
        })
    }

    /// Reads an image file and classifies it (see [`Model::classify_encoded`]).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; as [`Model::classify_encoded`] otherwise.
    pub fn classify_path(
        &self,
        path: impl AsRef<Path>,
        options: &ClassifyOptions,
    ) -> Result<Vec<Prediction>> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.classify_encoded(&bytes, options)
    }

    /// Classifies N encoded images in one run of the model: the results are those of N
    /// [`Model::classify_encoded`] calls, in order. The plan for N rows is built on the first
    /// call with N and kept ([`MAX_BATCH_PLANS`] sizes at most); the cache is not consulted.
    ///
    /// # Errors
    /// As [`Model::classify_encoded`], for the first image that fails (nothing is returned for
    /// the others). A graph that cannot take N rows (a Reshape to a constant batch of 1, say)
    /// runs the images one by one, with the same results.
    pub fn classify_batch<B: AsRef<[u8]>>(
        &self,
        images: &[B],
        options: &ClassifyOptions,
    ) -> Result<Vec<Vec<Prediction>>> {
        let started = Instant::now();
        let result = self.classify_batch_unrecorded(images, options);
        let mut stats = lock(&self.stats);
        match &result {
            Ok((results, outcomes)) => {
                // Each image counts as a call of its share of the batch's time.
                let share = started.elapsed() / results.len().max(1) as u32;
                for outcome in outcomes {
                    stats.record(share, *outcome, true);
                }
            }
            Err(e) => stats.record_error(e.kind()),
        }
        result.map(|(r, _)| r)
    }

    fn classify_batch_unrecorded<B: AsRef<[u8]>>(
        &self,
        images: &[B],
        options: &ClassifyOptions,
    ) -> Result<(Vec<Vec<Prediction>>, Vec<Outcome>)> {
        let manifest = self.task_manifest(Task::Classify)?;
        options.validate()?;
        if images.is_empty() {
            return Ok((vec![], vec![]));
        }
        let tensors = images
            .iter()
            .map(|b| {
                Ok(self
                    .image_input(&self.decode(b.as_ref())?, Task::Classify)?
                    .0)
            })
            .collect::<Result<Vec<_>>>()?;
        let Some(engine) = self.batch_engine(images.len()) else {
            return tensors
                .iter()
                .map(|t| self.classify_scores(t, options))
                .collect::<Result<Vec<_>>>()
                .map(|r| r.into_iter().unzip());
        };
        let outputs = engine.run(&[stack(&tensors)?])?;
        let at = self.output_index(manifest.output.scores.as_deref())?;
        let values = f32_scores(&outputs[at], at)?;
        let per_row = values.len() / images.len();
        values
            .chunks_exact(per_row)
            .map(|row| rank_row(row, options, manifest))
            .collect::<Result<Vec<_>>>()
            .map(|r| r.into_iter().unzip())
    }

    /// Classifies an already preprocessed input tensor: runs the model and reads its scores
    /// output as the manifest says (softmax for logits, labels).
    ///
    /// # Errors
    /// The input checks of [`Model::run`]; [`Error::TaskMismatch`] when the model's output has
    /// more than one row (a batch: use [`Model::classify_batch`] or [`Model::run`]);
    /// [`Error::Manifest`] when an output declared `probabilities` is none;
    /// [`Error::InvalidArgument`] for options out of range.
    pub fn classify_tensor(
        &self,
        tensor: &Tensor,
        options: &ClassifyOptions,
    ) -> Result<Vec<Prediction>> {
        self.serve(None, true, || self.classify_scores(tensor, options))
    }

    /// Preprocesses an encoded image into the model's input tensor, without running it.
    ///
    /// # Errors
    /// As [`Model::classify_encoded`] before the model runs.
    pub fn preprocess_encoded(&self, bytes: &[u8]) -> Result<Tensor> {
        let task = self.manifest("preprocess an image for")?.task;
        let img = self.decode(bytes)?;
        Ok(self.image_input(&img, task)?.0)
    }

    /// Turns a camera frame into the model's input tensor (YUV → RGB, rotation, mirror, region,
    /// resize, normalization), without running it.
    ///
    /// # Errors
    /// As [`Model::classify_frame`] before the model runs.
    pub fn preprocess_frame(&self, frame: &Frame<'_>) -> Result<Tensor> {
        let task = self.manifest("preprocess a frame for")?.task;
        Ok(self.image_input(&self.frame(frame)?, task)?.0)
    }

    /// Decodes an encoded image (JPEG, PNG, WebP, BMP, GIF), preprocesses it as the manifest says,
    /// runs the detector and returns what it finds, best first, with boxes and keypoints in pixels
    /// of the image (after its EXIF orientation). Unset `options` take the manifest's `[detect]`
    /// values.
    ///
    /// # Errors
    /// [`Error::ImageDecode`] / [`Error::LimitExceeded`] for the image; [`Error::Manifest`]
    /// without a manifest; [`Error::TaskMismatch`] for a model whose manifest is not
    /// `task = "detect"`; [`Error::InvalidArgument`] for options out of range;
    /// [`Error::Inference`] when the engine fails.
    pub fn detect_encoded(&self, bytes: &[u8], options: &DetectOptions) -> Result<Vec<Detection>> {
        let key = self.key("detect", options, &[bytes]);
        self.serve(key, false, || {
            self.detect_image(&self.decode(bytes)?, options)
        })
    }

    /// Like [`Model::detect_encoded`] for a tightly packed RGBA frame of `width × height`
    /// pixels (`rgba.len() = width · height · 4`); boxes are in its pixels.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the buffer does not match its size; as
    /// [`Model::detect_encoded`] otherwise.
    pub fn detect_rgba(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        options: &DetectOptions,
    ) -> Result<Vec<Detection>> {
        let size = [width.to_le_bytes(), height.to_le_bytes()].concat();
        let key = self.key("detect_rgba", options, &[rgba, &size]);
        self.serve(key, false, || {
            self.detect_image(&self.rgba(rgba, width, height)?, options)
        })
    }

    /// Reads an image file and detects in it (see [`Model::detect_encoded`]).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; as [`Model::detect_encoded`] otherwise.
    pub fn detect_path(
        &self,
        path: impl AsRef<Path>,
        options: &DetectOptions,
    ) -> Result<Vec<Detection>> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.detect_encoded(&bytes, options)
    }

    /// Decodes an encoded image, preprocesses it as the manifest says and returns its
    /// embedding (unit length unless the manifest says `l2_normalize = false`); compare two
    /// with [`Embedding::cosine_similarity`].
    ///
    /// # Errors
    /// As [`Model::detect_encoded`], for a manifest with `task = "embed"`.
    pub fn embed_encoded(&self, bytes: &[u8]) -> Result<Embedding> {
        let key = self.key("embed", &(), &[bytes]);
        self.serve(key, false, || self.embed_image(&self.decode(bytes)?))
    }

    /// Like [`Model::embed_encoded`] for a tightly packed RGBA frame of `width × height` pixels.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the buffer does not match its size; as
    /// [`Model::embed_encoded`] otherwise.
    pub fn embed_rgba(&self, rgba: &[u8], width: u32, height: u32) -> Result<Embedding> {
        let size = [width.to_le_bytes(), height.to_le_bytes()].concat();
        let key = self.key("embed_rgba", &(), &[rgba, &size]);
        self.serve(key, false, || {
            self.embed_image(&self.rgba(rgba, width, height)?)
        })
    }

    /// Reads an image file and embeds it (see [`Model::embed_encoded`]).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; as [`Model::embed_encoded`] otherwise.
    pub fn embed_path(&self, path: impl AsRef<Path>) -> Result<Embedding> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.embed_encoded(&bytes)
    }

    /// Classifies a camera frame (RGBA, BGRA, RGB, NV12, NV21, I420 / YUV_420_888, with
    /// strides), turned upright by its rotation and mirror and cut to its region first, as its
    /// [`FrameLayout`](crate::vision::FrameLayout) says. Frames are not cached (a camera never
    /// sends the same bytes twice).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a frame whose bytes do not fit its layout (plane count,
    /// strides, sizes, rotation, region); [`Error::LimitExceeded`] over the pixel limit; as
    /// [`Model::classify_encoded`] otherwise.
    pub fn classify_frame(
        &self,
        frame: &Frame<'_>,
        options: &ClassifyOptions,
    ) -> Result<Vec<Prediction>> {
        self.serve(None, true, || {
            let (tensor, _) = self.image_input(&self.frame(frame)?, Task::Classify)?;
            self.classify_scores(&tensor, options)
        })
    }

    /// Detects objects in a camera frame (see [`Model::classify_frame`]); boxes and keypoints
    /// are in the pixels of the upright frame — as displayed, after rotation and mirror — even
    /// when a region is set.
    ///
    /// # Errors
    /// As [`Model::classify_frame`], and [`Model::detect_encoded`].
    pub fn detect_frame(
        &self,
        frame: &Frame<'_>,
        options: &DetectOptions,
    ) -> Result<Vec<Detection>> {
        self.serve(None, false, || {
            self.detect_image(&self.frame(frame)?, options)
        })
    }

    /// The embedding of a camera frame (see [`Model::classify_frame`]).
    ///
    /// # Errors
    /// As [`Model::classify_frame`], and [`Model::embed_encoded`].
    pub fn embed_frame(&self, frame: &Frame<'_>) -> Result<Embedding> {
        self.serve(None, false, || self.embed_image(&self.frame(frame)?))
    }

    /// Times every node of the optimized plan over `runs` runs of `inputs` (after one warm-up):
    /// time per operator type, MACs, achieved GMAC/s, and the int8 truth report (the share of
    /// MACs computed in integer kernels). Not counted in [`Model::stats`].
    ///
    /// # Errors
    /// As [`Model::run`].
    pub fn profile(&self, inputs: &[Tensor], runs: usize) -> Result<Profile> {
        self.engine.profile(inputs, runs)
    }

    /// One served call: the cached result for `key` when there is one, else `compute`'s; the
    /// outcome (or the error's kind) recorded in the stats.
    fn serve<T: CacheValue>(
        &self,
        key: Option<[u8; 32]>,
        classified: bool,
        compute: impl FnOnce() -> Result<(T, Outcome)>,
    ) -> Result<T> {
        let started = Instant::now();
        let cache = self.cache.as_ref().zip(key);
        if let Some((cache, key)) = &cache {
            let hit = lock(cache).get(key);
            if let Some((value, outcome)) = hit.and_then(|(v, o)| Some((T::unwrap(v)?, o))) {
                lock(&self.stats).record(started.elapsed(), outcome, classified);
                return Ok(value);
            }
        }
        match compute() {
            Ok((value, outcome)) => {
                if let Some((cache, key)) = cache {
                    lock(cache).put(key, value.clone().wrap(), outcome);
                }
                lock(&self.stats).record(started.elapsed(), outcome, classified);
                Ok(value)
            }
            Err(e) => {
                lock(&self.stats).record_error(e.kind());
                Err(e)
            }
        }
    }

    /// The cache key of a call, when this model has a cache.
    fn key(&self, task: &str, options: &impl Serialize, parts: &[&[u8]]) -> Option<[u8; 32]> {
        self.cache
            .as_ref()
            .map(|_| cache::key(task, options, parts))
    }

    /// The load options that plan this model again at `input_shapes`: its own options, with
    /// the manifest it was loaded with; integrity and signatures were checked at load, from
    /// these bytes.
    fn replan_options(&self, input_shapes: &Shapes) -> LoadOptions {
        LoadOptions {
            input_shapes: Some(
                input_shapes
                    .iter()
                    .map(|s| s.iter().map(|&d| d as u64).collect())
                    .collect(),
            ),
            manifest: self.info.manifest.clone(),
            manifest_path: None,
            labels: None,
            verify_integrity: false,
            trusted_keys: vec![],
            cache: None,
            ..self.options.clone()
        }
    }

    /// The engine planned for `n` rows: the model's own, or one built on demand and kept;
    /// `None` when the graph cannot take `n` rows (e.g. a Reshape to a constant batch of 1), so
    /// the images run one by one.
    fn batch_engine(&self, n: usize) -> Option<Arc<Engine>> {
        let pinned = self.engine.inputs()[0].dims();
        if pinned.first() == Some(&n) {
            return Some(self.engine.clone());
        }
        let mut shape = pinned;
        shape[0] = n;
        self.plan(vec![shape], |options| {
            Ok(
                match Engine::load(&self.bytes, self.dir.as_deref(), &options, None) {
                    // The plan must give n rows of the single plan's row size, or it is no
                    // batch plan.
                    Ok((engine, info)) if rows_fit(&info.outputs, &self.info.outputs, n) => {
                        Some(Arc::new(engine))
                    }
                    Ok(_) => None,
                    Err(e) => {
                        log::info!("no plan for a batch of {n} ({e}): its images run one by one");
                        None
                    }
                },
            )
        })
        .ok()
        .flatten()
    }

    /// Runs the classifier on one preprocessed input and ranks its scores.
    fn classify_scores(
        &self,
        tensor: &Tensor,
        options: &ClassifyOptions,
    ) -> Result<(Vec<Prediction>, Outcome)> {
        let manifest = self.task_manifest(Task::Classify)?;
        options.validate()?;
        let outputs = self.engine.run(std::slice::from_ref(tensor))?;
        let at = self.output_index(manifest.output.scores.as_deref())?;
        let scores = outputs.get(at).ok_or_else(|| Error::TaskMismatch {
            task: "classify",
            reason: "the model has no output".into(),
        })?;
        if scores.shape().len() > 1 && scores.shape()[0] != 1 {
            return Err(Error::TaskMismatch {
                task: "classify",
                reason: format!(
                    "classify takes one image, and the scores output has {} rows (shape {:?}, \
                     the model was loaded with batch {}): load with batch 1, or call \
                     classify_batch",
                    scores.shape()[0],
                    scores.shape(),
                    scores.shape()[0]
                ),
            });
        }
        rank_row(f32_scores(scores, at)?, options, manifest)
    }

    /// The manifest, which a task needs, and which must fit the model.
    fn manifest(&self, task: &'static str) -> Result<&Manifest> {
        if let Some(problem) = &self.manifest_problem {
            return Err(Error::Manifest(problem.clone()));
        }
        self.info.manifest.as_ref().ok_or_else(|| {
            Error::Manifest(format!(
                "this model has no manifest, so Ledge does not know how to {task} with it: pass \
                 LoadOptions::manifest, put a .toml beside the model, or `ledge pack` it"
            ))
        })
    }

    /// The manifest, which must be for `task`.
    fn task_manifest(&self, task: Task) -> Result<&Manifest> {
        let m = self.manifest(task.name())?;
        if m.task != task {
            return Err(Error::TaskMismatch {
                task: task.name(),
                reason: format!(
                    "the model's manifest says task = \"{}\": call {}, or load it with a \
                     manifest that says task = \"{}\"",
                    m.task.name(),
                    m.task.name(),
                    task.name()
                ),
            });
        }
        Ok(m)
    }

    /// Decodes an encoded image, with the configured limits and EXIF orientation.
    fn decode(&self, bytes: &[u8]) -> Result<Upright> {
        // The decoders assert on some hostile inputs (zune-jpeg 0.5.15 multiplies with overflow
        // on a fuzzed JPEG when overflow checks are on): a panic there is an undecodable image.
        engine::guarded(Error::ImageDecode, || {
            vision::decode(
                bytes,
                self.options.limits.max_image_pixels,
                self.options.apply_exif_orientation,
            )
        })
        .map(Upright::plain)
    }

    /// An RGBA frame as an RGB image, within the configured limits.
    fn rgba(&self, rgba: &[u8], width: u32, height: u32) -> Result<Upright> {
        vision::rgba_to_rgb(rgba, width, height, self.options.limits.max_image_pixels)
            .map(Upright::plain)
    }

    /// A camera frame as RGB with what turns it upright, within the configured limits.
    fn frame(&self, frame: &Frame<'_>) -> Result<Upright> {
        frame.to_upright(self.options.limits.max_image_pixels)
    }

    /// The input tensor of an image for `task`'s model, and the way back to image pixels.
    fn image_input(&self, img: &Upright, task: Task) -> Result<(Tensor, vision::Transform)> {
        let manifest = self.task_manifest(task)?;
        if self.info.inputs.len() != 1 {
            return Err(Error::TaskMismatch {
                task: task.name(),
                reason: format!(
                    "an image task needs a model with one input, this one has {}: call run \
                     with one tensor per input",
                    self.info.inputs.len()
                ),
            });
        }
        let dtype = self.engine.inputs()[0].dtype;
        vision::to_tensor(img, &manifest.input, &self.input_shape(), dtype)
    }

    /// The position of the output called `name` (the first output for `None`).
    fn output_index(&self, name: Option<&str>) -> Result<usize> {
        output_index(&self.info, name)
    }

    fn detect_image(
        &self,
        img: &Upright,
        options: &DetectOptions,
    ) -> Result<(Vec<Detection>, Outcome)> {
        let manifest = self.task_manifest(Task::Detect)?;
        let spec = manifest
            .detect
            .as_ref()
            .ok_or_else(|| Error::Manifest("task = \"detect\" needs a [detect] section".into()))?;
        let settings = detect::Settings::new(spec, options)?;
        let (tensor, to_image) = self.image_input(img, Task::Detect)?;
        let outputs = self.engine.run(std::slice::from_ref(&tensor))?;
        let f32_output = |name: &str| -> Result<&[f32]> {
            let t = &outputs[self.output_index(Some(name))?];
            t.as_f32().ok_or_else(|| Error::TaskMismatch {
                task: "detect",
                reason: format!("output '{name}' must be f32, it is {}", t.dtype()),
            })
        };
        let input_hw = image_hw(manifest.input.layout, &self.input_shape());
        let anchors = detect::anchors(&spec.anchors, input_hw.0, input_hw.1);
        let geometry = Geometry {
            input_hw,
            to_image,
            image_wh: (img.size().0 as f32, img.size().1 as f32),
        };
        let found = detect::decode(
            &settings,
            &anchors,
            f32_output(&spec.boxes)?,
            f32_output(&spec.scores)?,
            &geometry,
            &manifest.output.labels,
        )?;
        let outcome = Outcome {
            top1: found.first().map(|d| (d.index, d.score)),
            entropy: None,
        };
        Ok((found, outcome))
    }

    fn embed_image(&self, img: &Upright) -> Result<(Embedding, Outcome)> {
        let manifest = self.task_manifest(Task::Embed)?;
        let spec = manifest.embed.clone().unwrap_or_default();
        let (tensor, _) = self.image_input(img, Task::Embed)?;
        let outputs = self.engine.run(std::slice::from_ref(&tensor))?;
        let t = &outputs[self.output_index(spec.output.as_deref())?];
        let values = t.as_f32().ok_or_else(|| Error::TaskMismatch {
            task: "embed",
            reason: format!("the embedding output must be f32, it is {}", t.dtype()),
        })?;
        Ok((
            embed::embedding(values, spec.l2_normalize)?,
            Outcome::default(),
        ))
    }

    fn input_shape(&self) -> Vec<usize> {
        self.engine.inputs()[0].dims()
    }
}

/// Whether `batched` outputs hold `n` rows of what `single` outputs hold one of.
fn rows_fit(batched: &[crate::TensorSpec], single: &[crate::TensorSpec], n: usize) -> bool {
    batched.len() == single.len()
        && batched.iter().zip(single).all(|(b, s)| {
            b.shape.first() == Some(&(n as i64))
                && s.shape.first() == Some(&1)
                && b.shape[1..] == s.shape[1..]
        })
}

/// A classifier's scores output as f32 values.
fn f32_scores(scores: &Tensor, at: usize) -> Result<&[f32]> {
    scores.as_f32().ok_or_else(|| Error::TaskMismatch {
        task: "classify",
        reason: format!(
            "a classifier's scores output must be f32, output {at} is {}",
            scores.dtype()
        ),
    })
}

/// One row of scores → ranked predictions, and what the monitor records of it.
fn rank_row(
    row: &[f32],
    options: &ClassifyOptions,
    manifest: &Manifest,
) -> Result<(Vec<Prediction>, Outcome)> {
    let probabilities = classify::probabilities(row, manifest.output.kind)?;
    let top = classify::rank(&probabilities, options, &manifest.output.labels)?;
    // The top-1 of the whole distribution (not of the filtered list), for the histograms.
    let best = probabilities
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(i, p)| (i as u32, *p));
    let outcome = Outcome {
        top1: best,
        entropy: classify::normalized_entropy(&probabilities),
    };
    Ok((top, outcome))
}

/// Stacks batch-1 image tensors of one shape and type into one tensor of N rows.
fn stack(tensors: &[Tensor]) -> Result<Tensor> {
    let first = tensors[0].shape();
    let mut shape = first.to_vec();
    shape[0] = tensors.len();
    macro_rules! join {
        ($variant:ident) => {
            tensors
                .iter()
                .map(|t| match t.data() {
                    TensorData::$variant(v) => Some(v.as_slice()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(|parts| TensorData::$variant(parts.concat()))
        };
    }
    let data = match tensors[0].data() {
        TensorData::F32(_) => join!(F32),
        TensorData::U8(_) => join!(U8),
        TensorData::I8(_) => join!(I8),
        _ => None,
    };
    let data = data.ok_or_else(|| {
        Error::InvalidArgument("only f32, u8 and i8 image inputs of one type can be batched".into())
    })?;
    Tensor::new(shape, data)
}

/// The position of the output called `name` in `info.outputs` (the first for `None`).
///
/// # Errors
/// [`Error::Manifest`] naming the outputs there are, when none is called `name`.
fn output_index(info: &ModelInfo, name: Option<&str>) -> Result<usize> {
    let Some(name) = name else {
        return if info.outputs.is_empty() {
            Err(Error::Manifest("the model has no output".into()))
        } else {
            Ok(0)
        };
    };
    info.outputs
        .iter()
        .position(|o| o.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = info.outputs.iter().map(|o| o.name.as_str()).collect();
            Error::Manifest(format!(
                "the manifest names output '{name}', but the model's outputs are {names:?}: \
                 use one of those names"
            ))
        })
}

/// `(height, width)` of an image input of `shape` in `layout` (0 when the shape is no image).
fn image_hw(layout: Layout, shape: &[usize]) -> (usize, usize) {
    match (layout, shape) {
        (Layout::NCHW, [_, _, h, w]) | (Layout::NHWC, [_, h, w, _]) => (*h, *w),
        _ => (0, 0),
    }
}

/// Refuses a manifest that contradicts the model: outputs it names that do not exist or are not
/// f32, labels that do not match the classes, anchors that do not match the boxes.
fn check_manifest_fits(info: &ModelInfo) -> Result<()> {
    let Some(m) = &info.manifest else {
        return Ok(());
    };
    let f32_output = |name: Option<&str>| -> Result<&crate::TensorSpec> {
        let out = &info.outputs[output_index(info, name)?];
        if out.dtype != crate::DType::F32 {
            return Err(Error::Manifest(format!(
                "output '{}' is {}, not f32 (the manifest reads it as {} output)",
                out.name,
                out.dtype,
                m.task.name()
            )));
        }
        Ok(out)
    };
    // Values per row: every dimension after the batch (all of them for a rank-1 output).
    let per_row = |shape: &[i64]| -> i64 {
        match shape {
            [only] => *only,
            [_batch, rest @ ..] => rest.iter().product(),
            [] => 1,
        }
    };
    let labels = m.output.labels.len();
    let check_labels = |classes: i64, out: &crate::TensorSpec| {
        if labels > 0 && classes > 0 && classes as usize != labels {
            return Err(Error::Manifest(format!(
                "the manifest has {labels} labels but output '{}' has {classes} classes (shape \
                 {:?}): give one label per class",
                out.name, out.shape
            )));
        }
        Ok(())
    };
    match m.task {
        Task::Classify => {
            if info.outputs.is_empty() {
                return Ok(());
            }
            let out = f32_output(m.output.scores.as_deref())?;
            check_labels(per_row(&out.shape), out)?;
        }
        Task::Embed => {
            let spec = m.embed.clone().unwrap_or_default();
            f32_output(spec.output.as_deref())?;
        }
        Task::Detect => {
            let Some(spec) = &m.detect else {
                return Ok(()); // validate() refused this already
            };
            let boxes = f32_output(Some(&spec.boxes))?;
            let scores = f32_output(Some(&spec.scores))?;
            // [1, anchors, values] or [anchors, values]
            let rows = |s: &crate::TensorSpec| match s.shape.as_slice() {
                [1, n, v] | [n, v] => Ok((*n, *v)),
                other => Err(Error::Manifest(format!(
                    "output '{}' has shape {other:?}; a detector's {} output must be [1, \
                     anchors, values]",
                    s.name,
                    if s.name == spec.boxes {
                        "boxes"
                    } else {
                        "scores"
                    }
                ))),
            };
            let (n_boxes, per_box) = rows(boxes)?;
            let (n_scores, classes) = rows(scores)?;
            let input = info.inputs.first().map(|i| i.dims()).unwrap_or_default();
            let (h, w) = image_hw(m.input.layout, &input);
            let anchors = crate::tasks::detect::anchors(&spec.anchors, h, w).len() as i64;
            for (name, n) in [(&boxes.name, n_boxes), (&scores.name, n_scores)] {
                if n > 0 && n != anchors {
                    return Err(Error::Manifest(format!(
                        "output '{name}' has {n} rows, and the manifest's [detect.anchors] give \
                         {anchors} anchors for a {h}×{w} input: fix the anchors (strides, \
                         aspect ratios, reduce_boxes_in_lowest_layer) to match the model"
                    )));
                }
            }
            let needed = 4 + 2 * i64::from(spec.box_coding.keypoints);
            if per_box > 0 && per_box < needed {
                return Err(Error::Manifest(format!(
                    "output '{}' has {per_box} values per anchor, and the box coding needs \
                     {needed} (4 + 2 per keypoint): fix detect.box_coding.keypoints",
                    boxes.name
                )));
            }
            check_labels(classes, scores)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Model>();
    }
}
