//! [`Model`]: a loaded model and the tasks it serves. It ties the layers together: the
//! [`engine`](crate::engine) runs, [`vision`](crate::vision) prepares images,
//! [`tasks`](crate::tasks) reads outputs, [`serving`](crate::serving) records.

use std::path::Path;
use std::sync::Mutex;

use crate::clock::Instant;
use crate::engine::{self, Engine, ModelInfo, Profile};
use crate::error::{Error, Limit, Result};
use crate::manifest::Manifest;
use crate::options::{Limits, LoadOptions};
use crate::serving::{Recorder, Stats};
use crate::tasks::classify::{self, ClassifyOptions, Prediction};
use crate::tensor::Tensor;
use crate::vision;

/// A loaded and optimized model. `Send + Sync`: load once, share across threads; every method
/// takes `&self`.
pub struct Model {
    engine: Engine,
    info: ModelInfo,
    limits: Limits,
    apply_exif_orientation: bool,
    stats: Mutex<Recorder>,
}

impl Model {
    /// Loads a model from a file. A manifest beside it with the same stem and a `.toml`
    /// extension (`model.onnx` → `model.toml`) is used unless [`LoadOptions::manifest`] is set;
    /// otherwise the embedded manifest, if any.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; every error of [`Model::from_bytes`].
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
        Model::load(&bytes, options, sidecar)
    }

    /// Loads a model from ONNX bytes (manifest from the options or embedded).
    ///
    /// # Errors
    /// [`Error::ModelFormat`] / [`Error::UnsupportedOperator`] for bytes that are no model tract
    /// can run; [`Error::LimitExceeded`] before any large allocation; [`Error::Manifest`] for an
    /// invalid manifest or one that does not fit the model; [`Error::Integrity`] when the
    /// manifest's sha256 is not the model's; [`Error::Optimization`] when the engine cannot
    /// prepare the graph.
    pub fn from_bytes(bytes: &[u8], options: &LoadOptions) -> Result<Model> {
        Model::load(bytes, options, None)
    }

    fn load(bytes: &[u8], options: &LoadOptions, sidecar: Option<Manifest>) -> Result<Model> {
        let (engine, info) = Engine::load(bytes, options, sidecar)?;
        check_manifest_fits(&info)?;
        Ok(Model {
            engine,
            info,
            limits: options.limits.clone(),
            apply_exif_orientation: options.apply_exif_orientation,
            stats: Mutex::default(),
        })
    }

    /// What Ledge knows about the model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Usage statistics since load.
    pub fn stats(&self) -> Stats {
        self.stats
            .lock()
            .map(|r| r.snapshot())
            .unwrap_or_else(|p| p.into_inner().snapshot())
    }

    /// Runs the model on raw tensors, one per input in order.
    ///
    /// # Errors
    /// [`Error::InputCount`], [`Error::InputShape`], [`Error::InputType`] and
    /// [`Error::LimitExceeded`] (`max_tensor_elements`) are checked before anything runs;
    /// [`Error::Inference`] when the engine fails.
    pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let started = Instant::now();
        let out = self.engine.run(inputs)?;
        self.record(started, None);
        Ok(out)
    }

    /// Decodes an encoded image (JPEG, PNG), preprocesses it as the manifest says, runs the
    /// model and returns the best classes as `options` says.
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
        let started = Instant::now();
        let tensor = self.preprocess_encoded(bytes)?;
        self.classify_recorded(started, &tensor, options)
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
        let started = Instant::now();
        let manifest = self.image_manifest()?;
        let img = vision::rgba_to_rgb(rgba, width, height, self.limits.max_image_pixels)?;
        let (tensor, _) = vision::to_tensor(&img, &manifest.input, &self.input_shape())?;
        self.classify_recorded(started, &tensor, options)
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

    /// Classifies an already preprocessed input tensor: runs the model and reads its first
    /// output as the manifest says (softmax for logits, labels).
    ///
    /// # Errors
    /// The input checks of [`Model::run`]; [`Error::TaskMismatch`] when the model's output has
    /// more than one row (a batch: use [`Model::run`]); [`Error::Manifest`] when an output
    /// declared `probabilities` is none; [`Error::InvalidArgument`] for options out of range.
    pub fn classify_tensor(
        &self,
        tensor: &Tensor,
        options: &ClassifyOptions,
    ) -> Result<Vec<Prediction>> {
        self.classify_recorded(Instant::now(), tensor, options)
    }

    /// Preprocesses an encoded image into the model's input tensor, without running it.
    ///
    /// # Errors
    /// As [`Model::classify_encoded`] before the model runs.
    pub fn preprocess_encoded(&self, bytes: &[u8]) -> Result<Tensor> {
        let manifest = self.image_manifest()?;
        // The decoders assert on some hostile inputs (zune-jpeg 0.5.15 multiplies with overflow
        // on a fuzzed JPEG when overflow checks are on): a panic there is an undecodable image.
        let img = engine::guarded(Error::ImageDecode, || {
            vision::decode(
                bytes,
                self.limits.max_image_pixels,
                self.apply_exif_orientation,
            )
        })?;
        Ok(vision::to_tensor(&img, &manifest.input, &self.input_shape())?.0)
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

    fn classify_recorded(
        &self,
        started: Instant,
        tensor: &Tensor,
        options: &ClassifyOptions,
    ) -> Result<Vec<Prediction>> {
        let manifest = self.manifest("classify")?;
        options.validate()?;
        let outputs = self.engine.run(std::slice::from_ref(tensor))?;
        let scores = outputs.first().ok_or_else(|| Error::TaskMismatch {
            task: "classify",
            reason: "the model has no output".into(),
        })?;
        if scores.shape().len() > 1 && scores.shape()[0] != 1 {
            return Err(Error::TaskMismatch {
                task: "classify",
                reason: format!(
                    "classify takes one image, and the scores output has {} rows (shape {:?}, \
                     the model was loaded with batch {}): load with batch 1, or call run and \
                     rank each row",
                    scores.shape()[0],
                    scores.shape(),
                    scores.shape()[0]
                ),
            });
        }
        let values = scores.as_f32().ok_or_else(|| Error::TaskMismatch {
            task: "classify",
            reason: format!(
                "a classifier's scores output must be f32, output 0 is {}",
                scores.dtype()
            ),
        })?;
        let probabilities = classify::probabilities(values, manifest.output.kind)?;
        let top = classify::rank(&probabilities, options, &manifest.output.labels)?;
        self.record(started, top.first().map(|p| p.score));
        Ok(top)
    }

    /// The manifest, which a task needs.
    fn manifest(&self, task: &'static str) -> Result<&Manifest> {
        self.info.manifest.as_ref().ok_or_else(|| {
            Error::Manifest(format!(
                "this model has no manifest, so Ledge does not know how to {task} with it: pass \
                 LoadOptions::manifest, put a .toml beside the model, or `ledge pack` it"
            ))
        })
    }

    /// The manifest of a model that takes one image.
    fn image_manifest(&self) -> Result<&Manifest> {
        let m = self.manifest("classify")?;
        if self.info.inputs.len() != 1 {
            return Err(Error::TaskMismatch {
                task: "classify",
                reason: format!(
                    "classifying an image needs a model with one input, this one has {}: call \
                     run with one tensor per input",
                    self.info.inputs.len()
                ),
            });
        }
        Ok(m)
    }

    fn input_shape(&self) -> Vec<usize> {
        self.engine.inputs()[0].dims()
    }

    fn record(&self, started: Instant, top1: Option<f32>) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.record(started.elapsed(), top1);
    }
}

/// Refuses a manifest whose labels or output kind contradict the model's first output.
fn check_manifest_fits(info: &ModelInfo) -> Result<()> {
    let (Some(m), Some(out)) = (&info.manifest, info.outputs.first()) else {
        return Ok(());
    };
    let labels = m.output.labels.len();
    // Classes per row: every dimension after the batch (all of them for a rank-1 output).
    let classes: i64 = match out.shape.as_slice() {
        [only] => *only,
        [_batch, rest @ ..] => rest.iter().product(),
        [] => 1,
    };
    if labels > 0 && classes > 0 && classes as usize != labels {
        return Err(Error::Manifest(format!(
            "the manifest has {labels} labels but output '{}' has {classes} classes (shape {:?}): \
             give one label per class",
            out.name, out.shape
        )));
    }
    if out.dtype != crate::DType::F32 {
        return Err(Error::Manifest(format!(
            "output '{}' is {}, not f32 scores",
            out.name, out.dtype
        )));
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
