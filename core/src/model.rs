//! [`Model`]: a loaded model and the tasks it serves. It ties the layers together: the
//! [`engine`](crate::engine) runs, [`vision`](crate::vision) prepares images,
//! [`tasks`](crate::tasks) reads outputs, [`serving`](crate::serving) records.

use std::path::Path;
use std::sync::Mutex;

use image::RgbImage;

use crate::clock::Instant;
use crate::engine::{self, Engine, ModelInfo, Profile};
use crate::error::{Error, Limit, Result};
use crate::manifest::{Layout, Manifest, Task};
use crate::options::{Limits, LoadOptions};
use crate::serving::{Recorder, Stats};
use crate::tasks::classify::{self, ClassifyOptions, Prediction};
use crate::tasks::detect::{self, DetectOptions, Detection, Geometry};
use crate::tasks::embed::{self, Embedding};
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
        let img = self.decode(bytes)?;
        let (tensor, _) = self.image_input(&img, Task::Classify)?;
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
        let img = vision::rgba_to_rgb(rgba, width, height, self.limits.max_image_pixels)?;
        let (tensor, _) = self.image_input(&img, Task::Classify)?;
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
        let task = self.manifest("preprocess an image for")?.task;
        let img = self.decode(bytes)?;
        Ok(self.image_input(&img, task)?.0)
    }

    /// Decodes an encoded image (JPEG, PNG), preprocesses it as the manifest says, runs the
    /// detector and returns what it finds, best first, with boxes and keypoints in pixels of the
    /// image (after its EXIF orientation). Unset `options` take the manifest's `[detect]` values.
    ///
    /// # Errors
    /// [`Error::ImageDecode`] / [`Error::LimitExceeded`] for the image; [`Error::Manifest`]
    /// without a manifest; [`Error::TaskMismatch`] for a model whose manifest is not
    /// `task = "detect"`; [`Error::InvalidArgument`] for options out of range;
    /// [`Error::Inference`] when the engine fails.
    pub fn detect_encoded(&self, bytes: &[u8], options: &DetectOptions) -> Result<Vec<Detection>> {
        let started = Instant::now();
        let img = self.decode(bytes)?;
        self.detect_image(started, &img, options)
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
        let started = Instant::now();
        let img = vision::rgba_to_rgb(rgba, width, height, self.limits.max_image_pixels)?;
        self.detect_image(started, &img, options)
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
        let started = Instant::now();
        let img = self.decode(bytes)?;
        self.embed_image(started, &img)
    }

    /// Like [`Model::embed_encoded`] for a tightly packed RGBA frame of `width × height` pixels.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the buffer does not match its size; as
    /// [`Model::embed_encoded`] otherwise.
    pub fn embed_rgba(&self, rgba: &[u8], width: u32, height: u32) -> Result<Embedding> {
        let started = Instant::now();
        let img = vision::rgba_to_rgb(rgba, width, height, self.limits.max_image_pixels)?;
        self.embed_image(started, &img)
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
                "a classifier's scores output must be f32, output {at} is {}",
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
    fn decode(&self, bytes: &[u8]) -> Result<RgbImage> {
        // The decoders assert on some hostile inputs (zune-jpeg 0.5.15 multiplies with overflow
        // on a fuzzed JPEG when overflow checks are on): a panic there is an undecodable image.
        engine::guarded(Error::ImageDecode, || {
            vision::decode(
                bytes,
                self.limits.max_image_pixels,
                self.apply_exif_orientation,
            )
        })
    }

    /// The input tensor of an image for `task`'s model, and the way back to image pixels.
    fn image_input(&self, img: &RgbImage, task: Task) -> Result<(Tensor, vision::Transform)> {
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
        vision::to_tensor(img, &manifest.input, &self.input_shape())
    }

    /// The position of the output called `name` (the first output for `None`).
    fn output_index(&self, name: Option<&str>) -> Result<usize> {
        output_index(&self.info, name)
    }

    fn detect_image(
        &self,
        started: Instant,
        img: &RgbImage,
        options: &DetectOptions,
    ) -> Result<Vec<Detection>> {
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
            image_wh: (img.width() as f32, img.height() as f32),
        };
        let found = detect::decode(
            &settings,
            &anchors,
            f32_output(&spec.boxes)?,
            f32_output(&spec.scores)?,
            &geometry,
            &manifest.output.labels,
        )?;
        self.record(started, None);
        Ok(found)
    }

    fn embed_image(&self, started: Instant, img: &RgbImage) -> Result<Embedding> {
        let manifest = self.task_manifest(Task::Embed)?;
        let spec = manifest.embed.clone().unwrap_or_default();
        let (tensor, _) = self.image_input(img, Task::Embed)?;
        let outputs = self.engine.run(std::slice::from_ref(&tensor))?;
        let t = &outputs[self.output_index(spec.output.as_deref())?];
        let values = t.as_f32().ok_or_else(|| Error::TaskMismatch {
            task: "embed",
            reason: format!("the embedding output must be f32, it is {}", t.dtype()),
        })?;
        let e = embed::embedding(values, spec.l2_normalize)?;
        self.record(started, None);
        Ok(e)
    }

    fn input_shape(&self) -> Vec<usize> {
        self.engine.inputs()[0].dims()
    }

    fn record(&self, started: Instant, top1: Option<f32>) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.record(started.elapsed(), top1);
    }
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
