//! `ledge`: the command-line face of the Ledge core.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use frame::FrameArgs;
use ledge::{ClassifyOptions, DetectOptions, Frame, LoadOptions, Manifest, Model, Tensor};
use ledge_cli::budget::{Budget, BudgetError};
use ledge_cli::npy;
use serde_json::json;

/// `println!` that ends the process quietly when stdout is closed (`ledge embed ... | head`)
/// instead of panicking on the broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// `print!` with the same treatment of a closed stdout.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod frame;
mod lifecycle;

/// What a command can fail with: the core's errors, and the budget checker's.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Ledge(#[from] ledge::Error),
    #[error(transparent)]
    Budget(#[from] BudgetError),
}

#[derive(Parser)]
#[command(
    name = "ledge",
    version,
    about = "On-device image classification with quantized ONNX models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Classify images with a model (its manifest says how to preprocess them).
    Classify {
        /// The ONNX model.
        model: PathBuf,
        /// JPEG, PNG, WebP, BMP or GIF files, already preprocessed input tensors (`.npy`), or raw
        /// frames (--frame).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[command(flatten)]
        classify: ClassifyArgs,
        #[command(flatten)]
        frame: FrameArgs,
        /// One JSON object per image instead of a table.
        #[arg(long)]
        json: bool,
        /// Classify the images N at a time, one model run per N (`classify_batch`).
        #[arg(long, default_value_t = 1, value_name = "N")]
        batch_size: usize,
        /// Then print the model's stats as JSON: latency percentiles, errors, confidence and
        /// class histograms, entropy, and drift against the manifest's baseline.
        #[arg(long)]
        stats: bool,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Detect objects in images with a detector (its manifest says how to decode its outputs).
    Detect {
        /// The ONNX model.
        model: PathBuf,
        /// JPEG, PNG, WebP, BMP or GIF files, or raw frames (--frame).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[command(flatten)]
        detect: DetectArgs,
        #[command(flatten)]
        frame: FrameArgs,
        /// One JSON object per image instead of a table (boxes: x, y, width, height in pixels).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Compute the embedding (feature vector) of images with an embedding model.
    Embed {
        /// The ONNX model.
        model: PathBuf,
        /// JPEG, PNG, WebP, BMP or GIF files, or raw frames (--frame).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[command(flatten)]
        frame: FrameArgs,
        /// One JSON object per image with every value, instead of a summary.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Rank images by cosine similarity of their embeddings to a query image, most similar first.
    Similar {
        /// The ONNX embedding model.
        model: PathBuf,
        /// The query image.
        query: PathBuf,
        /// The images to rank.
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Run a model on raw tensors stored as NumPy .npy files.
    Run {
        /// The ONNX model.
        model: PathBuf,
        /// One .npy per model input, in order.
        #[arg(long = "input", required = true)]
        inputs: Vec<PathBuf>,
        /// Where to write the outputs, one .npy per output in order (printed when omitted).
        #[arg(long = "output")]
        outputs: Vec<PathBuf>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Write the exact input tensor Ledge makes from an image (to compare with another pipeline).
    Preprocess {
        /// The ONNX model (its manifest says how to preprocess).
        model: PathBuf,
        /// A JPEG, PNG, WebP, BMP or GIF file.
        image: PathBuf,
        /// The .npy file to write.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Show inputs, outputs, size, hash, operators, MACs, quantization and manifest.
    Inspect {
        /// The ONNX model.
        model: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also profile RUNS runs per operator (default 20): time, share, MACs, GMAC/s and the
        /// int8 truth (the share of MACs that ran in integer kernels).
        #[arg(long, value_name = "RUNS", num_args = 0..=1, default_missing_value = "20")]
        profile: Option<usize>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Measure load time, first run, latency percentiles and peak memory; with `--image`, also the
    /// whole task call (classify, detect or embed) on it.
    Bench {
        /// The ONNX model.
        model: PathBuf,
        /// Preprocess this image for the input (default: a fixed pseudo-random tensor); a raw
        /// frame with --frame, whose conversion is then timed too.
        #[arg(long)]
        image: Option<PathBuf>,
        #[command(flatten)]
        frame: FrameArgs,
        /// Timed runs.
        #[arg(long, default_value_t = 100)]
        iters: usize,
        /// Untimed runs before timing.
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Then profile `iters` more runs per operator: time, share, MACs, GMAC/s, and the share
        /// of MACs that ran in integer (int8) kernels.
        #[arg(long)]
        profile: bool,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Embed a manifest (labels inlined, sha256 filled in) into an ONNX file.
    Pack {
        /// The ONNX model.
        model: PathBuf,
        /// The manifest TOML.
        #[arg(long)]
        manifest: PathBuf,
        /// The packed model to write.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Sign the package with this private key (`ledge keygen` writes one).
        #[arg(long, value_name = "KEY")]
        sign: Option<PathBuf>,
        /// Store the model's prediction histograms on these images (a folder of PNG/JPEG
        /// files like the ones it will see) as the baseline that stats' drift compares with.
        #[arg(long, value_name = "DIR")]
        baseline: Option<PathBuf>,
    },
    /// Make an Ed25519 key pair for signing models: DIR/ledge.key (private) and DIR/ledge.pub.
    Keygen {
        /// The folder to write the keys to.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a model's signature: exit 0 when KEY signed it, 1 (with the reason) otherwise.
    Verify {
        /// The packed ONNX model.
        model: PathBuf,
        /// The trusted public key (`ledge.pub`).
        #[arg(long)]
        key: PathBuf,
    },
    /// A model store: install, activate and roll back versions.
    Store {
        #[command(subcommand)]
        command: lifecycle::StoreCommand,
    },
    /// Size budgets.
    Budget {
        #[command(subcommand)]
        command: BudgetCommand,
    },
}

#[derive(Subcommand)]
enum BudgetCommand {
    /// Measure every artifact of a budget file; exit 1 when one is over, missing or misaligned.
    Check {
        /// The budget TOML.
        budget: PathBuf,
        /// JSON instead of a table.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// A Markdown table instead of a plain one.
        #[arg(long)]
        markdown: bool,
        /// Check only the artifacts whose path, as written in the budget, matches this glob
        /// (repeatable), e.g. 'dist/ledge-*-aarch64-*'.
        #[arg(long, value_name = "GLOB")]
        only: Vec<String>,
        /// Leave out the artifacts whose path, as written in the budget, matches this glob
        /// (repeatable), e.g. 'dist/ledge-*' for the Raspberry Pi archives.
        #[arg(long, value_name = "GLOB")]
        skip: Vec<String>,
    },
}

#[derive(Args)]
struct ClassifyArgs {
    /// How many classes to show, best first.
    #[arg(long = "max-results", visible_alias = "top", short = 'k', default_value_t = ledge::tasks::classify::DEFAULT_MAX_RESULTS)]
    max_results: u32,
    /// Only classes scoring at least this probability (0–1).
    #[arg(long, default_value_t = 0.0)]
    score_threshold: f32,
    /// Only these classes (label or index; repeatable).
    #[arg(long = "allow", value_name = "LABEL")]
    allowlist: Vec<String>,
    /// Never these classes (label or index; repeatable).
    #[arg(long = "deny", value_name = "LABEL")]
    denylist: Vec<String>,
}

impl ClassifyArgs {
    fn options(&self) -> ClassifyOptions {
        ClassifyOptions {
            max_results: self.max_results,
            score_threshold: self.score_threshold,
            allowlist: self.allowlist.clone(),
            denylist: self.denylist.clone(),
        }
    }
}

#[derive(Args)]
struct DetectArgs {
    /// At most this many detections per image (default: the manifest's).
    #[arg(long)]
    max_results: Option<u32>,
    /// Only detections scoring at least this (0–1; default: the manifest's).
    #[arg(long)]
    score_threshold: Option<f32>,
    /// Non-maximum suppression IoU threshold (0–1; default: the manifest's).
    #[arg(long)]
    iou_threshold: Option<f32>,
    /// Only these classes (label or index; repeatable).
    #[arg(long = "allow", value_name = "LABEL")]
    allowlist: Vec<String>,
    /// Never these classes (label or index; repeatable).
    #[arg(long = "deny", value_name = "LABEL")]
    denylist: Vec<String>,
}

impl DetectArgs {
    fn options(&self) -> DetectOptions {
        DetectOptions {
            max_results: self.max_results,
            score_threshold: self.score_threshold,
            iou_threshold: self.iou_threshold,
            allowlist: self.allowlist.clone(),
            denylist: self.denylist.clone(),
        }
    }
}

#[derive(Args)]
struct LoadArgs {
    /// Use this manifest instead of the sidecar or embedded one.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Run every operator with tract's own kernels, as tract alone does (QDQ convolutions in
    /// float between quantization steps), instead of Ledge's (for comparison).
    #[arg(long)]
    tract_kernels: bool,
    /// The int8 kernels' instruction set: auto (the best this CPU runs) or a name that
    /// `ledge inspect` lists (portable, avx2, avx512vnni, ...). Also LEDGE_ISA.
    #[arg(long, value_name = "auto|NAME")]
    isa: Option<String>,
    /// Threads one run uses for its convolutions and matrix products (0 = one per CPU core);
    /// outputs are identical whatever the count.
    #[arg(long, default_value_t = 1, value_name = "N")]
    threads: u32,
    /// Classify encoded images as stored, ignoring their EXIF Orientation tag (by default they are
    /// turned as viewers show them).
    #[arg(long)]
    ignore_exif_orientation: bool,
    /// Batch size pinned into the model's first dimension.
    #[arg(long, default_value_t = 1)]
    batch: u32,
    /// The shape to plan an input at, for a model with dynamic dimensions (e.g. a height and
    /// width exported as symbols): `NAME=1,3,480,640`, or just the dimensions for a model with
    /// one input. Repeat per input; every input needs one.
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    input_shapes: Vec<String>,
    /// Only load the model signed by this public key (`ledge.pub`; repeatable).
    #[arg(long = "trusted-key", value_name = "PUB")]
    trusted_keys: Vec<PathBuf>,
    /// Largest model file accepted, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_model_bytes: Option<u64>,
    /// Largest image accepted, in pixels.
    #[arg(long, value_name = "PIXELS")]
    max_image_pixels: Option<u64>,
    /// Largest input tensor accepted, in elements.
    #[arg(long, value_name = "ELEMENTS")]
    max_tensor_elements: Option<u64>,
    /// Largest total the model may plan to allocate, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_plan_bytes: Option<u64>,
}

impl LoadArgs {
    fn selected_isa(&self) -> ledge::Result<&'static str> {
        ledge::selected_isa(&LoadOptions {
            isa: self.isa.clone(),
            ..LoadOptions::default()
        })
    }

    /// The load options the flags give.
    fn options(&self) -> ledge::Result<LoadOptions> {
        let manifest = self
            .manifest
            .as_ref()
            .map(Manifest::from_path)
            .transpose()?;
        let mut limits = ledge::Limits::default();
        let set = |field: &mut u64, flag: Option<u64>| *field = flag.unwrap_or(*field);
        set(&mut limits.max_model_bytes, self.max_model_bytes);
        set(&mut limits.max_image_pixels, self.max_image_pixels);
        set(&mut limits.max_tensor_elements, self.max_tensor_elements);
        set(&mut limits.max_plan_bytes, self.max_plan_bytes);
        Ok(LoadOptions {
            manifest,
            ledge_kernels: !self.tract_kernels,
            batch: self.batch,
            limits,
            isa: self.isa.clone(),
            threads: self.threads,
            apply_exif_orientation: !self.ignore_exif_orientation,
            trusted_keys: self
                .trusted_keys
                .iter()
                .map(|k| lifecycle::read_key(k))
                .collect::<ledge::Result<_>>()?,
            ..LoadOptions::default()
        })
    }

    fn load(&self, model: &Path) -> ledge::Result<Model> {
        self.load_for(model, &[])
    }

    /// The model, planned at `--input-shape`'s shapes; without them, where its inputs leave
    /// dimensions other than the batch dynamic, at the shapes of `tensors` (`run`'s inputs).
    fn load_for(&self, model: &Path, tensors: &[ledge::Tensor]) -> ledge::Result<Model> {
        let mut options = self.options()?;
        if !self.input_shapes.is_empty() || !tensors.is_empty() {
            let bytes = std::fs::read(model).map_err(|e| ledge::Error::Io {
                path: model.to_path_buf(),
                source: e,
            })?;
            let declared = ledge::declared_inputs(&bytes)?;
            let dynamic = declared
                .iter()
                .any(|i| i.shape.iter().skip(1).any(|&d| d < 0));
            if !self.input_shapes.is_empty() {
                options.input_shapes = Some(input_shapes(&self.input_shapes, &declared)?);
            } else if dynamic && declared.len() == tensors.len() {
                options.input_shapes = Some(
                    tensors
                        .iter()
                        .map(|t| t.shape().iter().map(|&d| d as u64).collect())
                        .collect(),
                );
            }
        }
        Model::from_path(model, &options)
    }
}

/// `--input-shape` values (`NAME=1,3,H,W`, or `1,3,H,W` for a one-input model) in the order of
/// the model's inputs.
fn input_shapes(given: &[String], inputs: &[ledge::TensorSpec]) -> ledge::Result<Vec<Vec<u64>>> {
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let bad = |msg: String| ledge::Error::InvalidArgument(msg);
    let mut shapes: Vec<Option<Vec<u64>>> = vec![None; inputs.len()];
    for value in given {
        let (name, dims) = match value.rsplit_once('=') {
            Some((name, dims)) => (name, dims),
            None if inputs.len() == 1 => (names[0], value.as_str()),
            None => {
                return Err(bad(format!(
                    "--input-shape {value}: the model has {} inputs ({}), so say which one: \
                     --input-shape NAME=DIMS",
                    inputs.len(),
                    names.join(", ")
                )))
            }
        };
        let at = names.iter().position(|n| *n == name).ok_or_else(|| {
            bad(format!(
                "--input-shape {value}: the model has no input '{name}'; its inputs are {}",
                names.join(", ")
            ))
        })?;
        let dims = dims
            .split(',')
            .map(|d| d.trim().parse::<u64>().ok().filter(|&d| d > 0))
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| {
                bad(format!(
                    "--input-shape {value}: the dimensions must be positive whole numbers \
                     separated by commas, e.g. {name}=1,3,224,224"
                ))
            })?;
        let declared = &inputs[at].shape;
        let fits = dims.len() == declared.len()
            && dims
                .iter()
                .zip(declared)
                .all(|(&g, &d)| d < 0 || g == d as u64);
        if !fits {
            let shape: Vec<String> = declared
                .iter()
                .map(|&d| if d < 0 { "?".into() } else { d.to_string() })
                .collect();
            return Err(bad(format!(
                "--input-shape {value}: input '{name}' is [{}] (? = dynamic); give {} \
                 dimensions and keep the fixed ones",
                shape.join(", "),
                declared.len()
            )));
        }
        shapes[at] = Some(dims);
    }
    shapes
        .into_iter()
        .zip(&names)
        .map(|(s, name)| {
            s.ok_or_else(|| {
                bad(format!(
                    "--input-shape is given for some inputs but not for '{name}': give one per \
                     input"
                ))
            })
        })
        .collect()
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Classify {
            model,
            images,
            classify,
            frame,
            json,
            batch_size,
            stats,
            load,
        } => {
            let model = load.load(&model)?;
            let top = classify.options();
            let layout = frame.layout()?;
            if layout.is_some() && batch_size > 1 {
                return Err(ledge::Error::InvalidArgument(
                    "--batch-size takes encoded images; classify --frame files one by one".into(),
                )
                .into());
            }
            let mut results = Vec::new();
            if batch_size > 1 {
                for chunk in images.chunks(batch_size) {
                    let bytes = chunk
                        .iter()
                        .map(|p| read_file(p))
                        .collect::<ledge::Result<Vec<_>>>()?;
                    let started = Instant::now();
                    let batch = model.classify_batch(&bytes, &top)?;
                    let ms = started.elapsed().as_secs_f64() * 1e3 / chunk.len() as f64;
                    results.extend(batch.into_iter().map(|p| (p, ms)));
                }
            }
            for (i, image) in images.into_iter().enumerate() {
                let (predictions, ms) = match results.get(i) {
                    Some((p, ms)) => (p.clone(), *ms),
                    None => {
                        let started = Instant::now();
                        let p = if let Some(layout) = &layout {
                            let bytes = read_file(&image)?;
                            let planes = frame::planes(&bytes, layout, &image)?;
                            model.classify_frame(&Frame::new(planes, layout.clone()), &top)?
                        } else if image.extension().is_some_and(|e| e == "npy") {
                            model.classify_tensor(&read_npy(&image)?, &top)?
                        } else {
                            model.classify_path(&image, &top)?
                        };
                        (p, started.elapsed().as_secs_f64() * 1e3)
                    }
                };
                if json {
                    out!(
                        "{}",
                        json!({"image": image, "predictions": predictions, "latency_ms": ms})
                    );
                } else {
                    out!("{}  ({ms:.1} ms)", image.display());
                    for (rank, p) in predictions.iter().enumerate() {
                        let label = p.label.as_deref().unwrap_or("");
                        out!(
                            "  {:>2}. {:>6.2}%  {label} [{}]",
                            rank + 1,
                            p.score * 100.0,
                            p.index
                        );
                    }
                }
            }
            if stats {
                let s = serde_json::to_value(model.stats())
                    .map_err(|e| ledge::Error::Inference(e.to_string()))?;
                out!("{}", json!({ "stats": s }));
            }
        }
        Command::Detect {
            model,
            images,
            detect,
            frame,
            json,
            load,
        } => {
            let model = load.load(&model)?;
            let options = detect.options();
            let layout = frame.layout()?;
            for image in images {
                let started = Instant::now();
                let found = match &layout {
                    Some(layout) => {
                        let bytes = read_file(&image)?;
                        let planes = frame::planes(&bytes, layout, &image)?;
                        model.detect_frame(&Frame::new(planes, layout.clone()), &options)?
                    }
                    None => model.detect_path(&image, &options)?,
                };
                let ms = started.elapsed().as_secs_f64() * 1e3;
                if json {
                    out!(
                        "{}",
                        json!({"image": image, "detections": found, "latency_ms": ms})
                    );
                } else {
                    out!("{}  ({ms:.1} ms, {} found)", image.display(), found.len());
                    for d in &found {
                        let b = d.bounding_box;
                        out!(
                            "  {:>6.2}%  {} [{}]  x {:.0} y {:.0} w {:.0} h {:.0}{}",
                            d.score * 100.0,
                            d.label.as_deref().unwrap_or(""),
                            d.index,
                            b.x,
                            b.y,
                            b.width,
                            b.height,
                            if d.keypoints.is_empty() {
                                String::new()
                            } else {
                                format!("  ({} keypoints)", d.keypoints.len())
                            }
                        );
                    }
                }
            }
        }
        Command::Embed {
            model,
            images,
            frame,
            json,
            load,
        } => {
            let model = load.load(&model)?;
            let layout = frame.layout()?;
            for image in images {
                let started = Instant::now();
                let e = match &layout {
                    Some(layout) => {
                        let bytes = read_file(&image)?;
                        let planes = frame::planes(&bytes, layout, &image)?;
                        model.embed_frame(&Frame::new(planes, layout.clone()))?
                    }
                    None => model.embed_path(&image)?,
                };
                let ms = started.elapsed().as_secs_f64() * 1e3;
                if json {
                    out!(
                        "{}",
                        json!({"image": image, "embedding": e.values, "latency_ms": ms})
                    );
                } else {
                    let head: Vec<String> =
                        e.values.iter().take(4).map(|v| format!("{v:.4}")).collect();
                    out!(
                        "{}  ({ms:.1} ms)  {} values  [{}, ...]",
                        image.display(),
                        e.values.len(),
                        head.join(", ")
                    );
                }
            }
        }
        Command::Similar {
            model,
            query,
            images,
            json,
            load,
        } => {
            let model = load.load(&model)?;
            let q = model.embed_path(&query)?;
            let mut ranked = images
                .iter()
                .map(|image| Ok((image, q.cosine_similarity(&model.embed_path(image)?)?)))
                .collect::<ledge::Result<Vec<_>>>()?;
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            if json {
                let rows: Vec<_> = ranked
                    .iter()
                    .map(|(image, c)| json!({"image": image, "cosine": c}))
                    .collect();
                out!("{}", json!({"query": query, "similar": rows}));
            } else {
                out!("most similar to {}:", query.display());
                for (rank, (image, c)) in ranked.iter().enumerate() {
                    out!("  {:>2}. {c:>7.4}  {}", rank + 1, image.display());
                }
            }
        }
        Command::Run {
            model,
            inputs,
            outputs,
            load,
        } => {
            let tensors = inputs
                .iter()
                .map(|p| read_npy(p))
                .collect::<ledge::Result<Vec<_>>>()?;
            let model = load.load_for(&model, &tensors)?;
            let results = model.run(&tensors)?;
            if !outputs.is_empty() && outputs.len() != results.len() {
                return Err(ledge::Error::InvalidArgument(format!(
                    "the model has {} output(s) but {} --output path(s) were given: give one \
                     per output, or none to print them",
                    results.len(),
                    outputs.len()
                ))
                .into());
            }
            for (ix, t) in results.iter().enumerate() {
                match outputs.get(ix) {
                    Some(path) => {
                        std::fs::write(path, npy::write(t)).map_err(|e| ledge::Error::Io {
                            path: path.clone(),
                            source: e,
                        })?
                    }
                    None => out!("{}", describe_tensor(&model.info().outputs[ix].name, t)),
                }
            }
        }
        Command::Preprocess {
            model,
            image,
            output,
            load,
        } => {
            let model = load.load(&model)?;
            let bytes = std::fs::read(&image).map_err(|e| ledge::Error::Io {
                path: image.clone(),
                source: e,
            })?;
            let tensor = model.preprocess_encoded(&bytes)?;
            std::fs::write(&output, npy::write(&tensor)).map_err(|e| ledge::Error::Io {
                path: output.clone(),
                source: e,
            })?;
            out!(
                "{} {:?} → {}",
                tensor.dtype(),
                tensor.shape(),
                output.display()
            );
        }
        Command::Inspect {
            model,
            json,
            profile,
            load,
        } => {
            let model = load.load(&model)?;
            let info = model.info();
            let profile = match profile {
                Some(runs) => {
                    let inputs = info
                        .inputs
                        .iter()
                        .map(pseudo_random_input)
                        .collect::<ledge::Result<Vec<_>>>()?;
                    Some(model.profile(&inputs, runs.max(1))?)
                }
                None => None,
            };
            if json {
                let mut v = serde_json::to_value(info)
                    .map_err(|e| ledge::Error::Inference(e.to_string()))?;
                v["quantized_mac_fraction"] = json!(info.quantized_mac_fraction());
                v["int8_matmul_kernel"] = json!(ledge::int8_matmul_kernel());
                v["int8_isa"] = json!(load.selected_isa()?);
                v["int8_isas_supported"] = json!(ledge::supported_isas());
                if let Some(p) = &profile {
                    v["profile"] = json!(p);
                    v["integer_mac_fraction"] = json!(p.integer_mac_fraction());
                }
                out!("{v}");
            } else {
                print_info(info, model.manifest_problem());
                out!(
                    "int8 kernels   {} ({}); this CPU runs: {}; depthwise: exact f32",
                    load.selected_isa()?,
                    match (&load.isa, std::env::var(ledge::ISA_ENV)) {
                        (Some(_), _) => "forced by --isa".to_string(),
                        (None, Ok(v)) if !v.is_empty() => format!("forced by {}", ledge::ISA_ENV),
                        _ => "the best this CPU runs".to_string(),
                    },
                    ledge::supported_isas().join(", ")
                );
                if let Some(p) = profile {
                    out_raw!("\n{}", p.to_table());
                }
            }
        }
        Command::Bench {
            model,
            image,
            frame,
            iters,
            warmup,
            json,
            profile,
            load,
        } => {
            let iters = iters.max(1);
            bench(
                &model,
                image.as_deref(),
                frame.layout()?.as_ref(),
                iters,
                warmup,
                json,
                profile,
                &load,
            )?;
        }
        Command::Pack {
            model,
            manifest,
            output,
            sign,
            baseline,
        } => {
            let bytes = std::fs::read(&model).map_err(|e| ledge::Error::Io {
                path: model.clone(),
                source: e,
            })?;
            let mut manifest = Manifest::from_path(&manifest)?;
            if let Some(dir) = &baseline {
                lifecycle::baseline(&bytes, &mut manifest, dir)?;
            }
            let packed = match &sign {
                Some(key) => ledge::pack_signed(&bytes, &manifest, &lifecycle::read_key(key)?)?,
                None => ledge::pack(&bytes, &manifest)?,
            };
            // Prove the result loads, with its manifest, before writing it.
            let loaded = Model::from_bytes(&packed, &LoadOptions::default())?;
            std::fs::write(&output, &packed).map_err(|e| ledge::Error::Io {
                path: output.clone(),
                source: e,
            })?;
            let sha = loaded
                .info()
                .manifest
                .as_ref()
                .and_then(|m| m.sha256.clone())
                .unwrap_or_default();
            out!(
                "packed {} → {} ({} bytes, model sha256 {sha}{}{})",
                model.display(),
                output.display(),
                packed.len(),
                if sign.is_some() { ", signed" } else { "" },
                match loaded
                    .info()
                    .manifest
                    .as_ref()
                    .and_then(|m| m.baseline.as_ref())
                {
                    Some(b) => format!(", baseline of {} images", b.samples),
                    None => String::new(),
                }
            );
        }
        Command::Keygen { out } => lifecycle::keygen(&out)?,
        Command::Verify { model, key } => {
            let signer = lifecycle::verify(&model, &key)?;
            out!("ok: {} is signed by {signer}", model.display());
        }
        Command::Store { command } => lifecycle::store(command)?,
        Command::Budget {
            command:
                BudgetCommand::Check {
                    budget,
                    json,
                    markdown,
                    only,
                    skip,
                },
        } => {
            let mut selected = Budget::read(&budget)?;
            selected.select(&only, &skip)?;
            let report = selected.check(ledge_cli::budget::budget_root(&budget))?;
            if json {
                out!("{}", report.to_json());
            } else if markdown {
                out_raw!("{}", report.to_markdown());
            } else {
                out_raw!("{}", report.to_table());
            }
            if !report.passed() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A file's bytes, or [`ledge::Error::Io`] naming it.
fn read_file(path: &Path) -> ledge::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| ledge::Error::io(path, e))
}

fn read_npy(path: &Path) -> ledge::Result<Tensor> {
    let bytes = std::fs::read(path).map_err(|e| ledge::Error::Io {
        path: path.to_owned(),
        source: e,
    })?;
    npy::read(&bytes).map_err(|e| match e {
        ledge::Error::InvalidArgument(m) => {
            ledge::Error::InvalidArgument(format!("{}: {m}", path.display()))
        }
        other => other,
    })
}

fn describe_tensor(name: &str, t: &Tensor) -> String {
    let head = match t.data() {
        ledge::TensorData::F32(v) => format!("{:?}", &v[..v.len().min(8)]),
        ledge::TensorData::I8(v) => format!("{:?}", &v[..v.len().min(8)]),
        ledge::TensorData::U8(v) => format!("{:?}", &v[..v.len().min(8)]),
        ledge::TensorData::I32(v) => format!("{:?}", &v[..v.len().min(8)]),
        ledge::TensorData::I64(v) => format!("{:?}", &v[..v.len().min(8)]),
    };
    let more = if t.len() > 8 { " …" } else { "" };
    format!("{name}: {} {:?} {head}{more}", t.dtype(), t.shape())
}

fn print_info(info: &ledge::ModelInfo, problem: Option<&str>) {
    let spec = |s: &ledge::TensorSpec| format!("{} {} {:?}", s.name, s.dtype, s.shape);
    out!("file size      {} bytes", info.file_size);
    out!("sha256         {}", info.sha256);
    for s in &info.inputs {
        out!("input          {}", spec(s));
    }
    for s in &info.outputs {
        out!("output         {}", spec(s));
    }
    out!("parameters     {}", info.parameters);
    out!("MACs           {:.1} M", info.macs as f64 / 1e6);
    out!(
        "quantized      {:.1} % of MACs ({} of {} conv/matmul nodes)",
        info.quantized_mac_fraction() * 100.0,
        info.quantized_compute_nodes,
        info.compute_nodes
    );
    let ops: Vec<String> = info
        .op_histogram
        .iter()
        .map(|(k, v)| format!("{k}×{v}"))
        .collect();
    out!("operators      {}", ops.join(" "));
    for r in &info.repairs {
        out!("repaired       {r}");
    }
    match (&info.manifest, info.manifest_source) {
        (Some(m), Some(source)) => {
            let source = serde_json::to_value(source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out!(
                "manifest       {} {} ({source}), task = \"{}\"",
                m.name,
                m.version,
                m.task.name()
            );
            out!(
                "  [input]      {}",
                toml_line(&m.input, &["resize", "normalize"])
            );
            out!("  resize       {}", toml_line(&m.input.resize, &[]));
            out!("  normalize    {}", toml_line(&m.input.normalize, &[]));
            out!(
                "  [output]     {}; {} labels",
                toml_line(&m.output, &["labels", "labels_file"]),
                m.output.labels.len()
            );
            if let Some(sha) = &m.sha256 {
                out!("  sha256       {sha} (verified)");
            }
            if let Some(problem) = problem {
                out!("  problem      {problem} (run works; classify, detect and embed fail)");
            }
        }
        _ => out!("manifest       none (classify needs one: see `ledge pack`)"),
    }
}

/// A manifest section as one line of TOML `key = value` pairs, without the keys in `skip`.
fn toml_line(section: &impl serde::Serialize, skip: &[&str]) -> String {
    match toml::Value::try_from(section) {
        Ok(toml::Value::Table(t)) => t
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        Ok(other) => other.to_string(),
        Err(e) => format!("(unprintable: {e})"),
    }
}

#[allow(clippy::too_many_arguments)] // one per `ledge bench` flag
fn bench(
    model_path: &Path,
    image: Option<&Path>,
    layout: Option<&ledge::FrameLayout>,
    iters: usize,
    warmup: usize,
    json: bool,
    profile: bool,
    load: &LoadArgs,
) -> ledge::Result<()> {
    let started = Instant::now();
    let model = load.load(model_path)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let bytes = image
        .map(|path| {
            std::fs::read(path).map_err(|e| ledge::Error::Io {
                path: path.to_owned(),
                source: e,
            })
        })
        .transpose()?;
    if layout.is_some() && bytes.is_none() {
        return Err(ledge::Error::InvalidArgument(
            "--frame needs --image FRAME.raw: the frame to convert".into(),
        ));
    }
    let frame = match (layout, &bytes, image) {
        (Some(layout), Some(bytes), Some(path)) => Some(Frame::new(
            frame::planes(bytes, layout, path)?,
            layout.clone(),
        )),
        _ => None,
    };
    // Medians of `iters` timed calls of `f` (after one untimed call).
    let median = |f: &dyn Fn() -> ledge::Result<()>| -> ledge::Result<f64> {
        f()?;
        let mut t = (0..iters)
            .map(|_| {
                let t = Instant::now();
                f().map(|()| t.elapsed().as_secs_f64() * 1e3)
            })
            .collect::<ledge::Result<Vec<_>>>()?;
        t.sort_by(f64::total_cmp);
        Ok(ledge::serving::percentile(&t, 50.0))
    };
    let inputs: Vec<Tensor> = match (&frame, &bytes) {
        (Some(frame), _) => vec![model.preprocess_frame(frame)?],
        (None, Some(bytes)) => vec![model.preprocess_encoded(bytes)?],
        (None, None) => model
            .info()
            .inputs
            .iter()
            .map(pseudo_random_input)
            .collect::<ledge::Result<_>>()?,
    };
    let time_run = || -> ledge::Result<f64> {
        let t = Instant::now();
        model.run(&inputs)?;
        Ok(t.elapsed().as_secs_f64() * 1e3)
    };
    let first_run_ms = time_run()?;
    for _ in 0..warmup {
        time_run()?;
    }
    let mut times = (0..iters)
        .map(|_| time_run())
        .collect::<ledge::Result<Vec<_>>>()?;
    times.sort_by(f64::total_cmp);
    let pct = |p| ledge::serving::percentile(&times, p);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    // The whole task call on the image (decode, preprocess, run, read the outputs: for a
    // detector the box decoding and NMS too), as an app calls it.
    let task = match (&bytes, model.info().manifest.as_ref(), &frame) {
        (Some(bytes), Some(m), None) => {
            // Median of `iters` whole calls on `model` (after one untimed call).
            let median_call = |model: &Model| -> ledge::Result<f64> {
                let call = || -> ledge::Result<f64> {
                    let t = Instant::now();
                    match m.task {
                        ledge::Task::Classify => {
                            model.classify_encoded(bytes, &ClassifyOptions::default())?;
                        }
                        ledge::Task::Detect => {
                            model.detect_encoded(bytes, &DetectOptions::default())?;
                        }
                        ledge::Task::Embed => {
                            model.embed_encoded(bytes)?;
                        }
                    }
                    Ok(t.elapsed().as_secs_f64() * 1e3)
                };
                call()?;
                let mut t = (0..iters)
                    .map(|_| call())
                    .collect::<ledge::Result<Vec<_>>>()?;
                t.sort_by(f64::total_cmp);
                Ok(ledge::serving::percentile(&t, 50.0))
            };
            // The same call answered by the prediction cache (a second load, with a cache).
            let cached = Model::from_path(
                model_path,
                &LoadOptions {
                    cache: Some(ledge::CacheOptions::default()),
                    ..load.options()?
                },
            )?;
            Some((m.task.name(), median_call(&model)?, median_call(&cached)?))
        }
        _ => None,
    };
    // A frame: its conversion to RGB alone, the whole preprocessing, and the whole task call.
    let frame_ms = match (&frame, model.info().manifest.as_ref()) {
        (Some(frame), Some(m)) => {
            let max = load.options()?.limits.max_image_pixels;
            let convert = median(&|| frame.to_upright(max).map(drop))?;
            let preprocess = median(&|| model.preprocess_frame(frame).map(drop))?;
            let call = median(&|| match m.task {
                ledge::Task::Classify => model
                    .classify_frame(frame, &ClassifyOptions::default())
                    .map(drop),
                ledge::Task::Detect => model
                    .detect_frame(frame, &DetectOptions::default())
                    .map(drop),
                ledge::Task::Embed => model.embed_frame(frame).map(drop),
            })?;
            Some((convert, preprocess, call))
        }
        _ => None,
    };
    let rss = peak_rss_bytes();
    let profile = profile.then(|| model.profile(&inputs, iters)).transpose()?;
    if json {
        out!(
            "{}",
            json!({
                "model": model_path, "iters": iters, "warmup": warmup,
                "load_ms": load_ms, "first_run_ms": first_run_ms,
                "p50_ms": pct(50.0), "p95_ms": pct(95.0), "p99_ms": pct(99.0), "mean_ms": mean,
                "min_ms": times[0], "peak_rss_bytes": rss, "profile": profile,
                "task": task.map(|t| t.0), "task_p50_ms": task.map(|t| t.1),
                "cache_hit_p50_ms": task.map(|t| t.2),
                "frame": layout.map(|l| format!("{}:{}x{}:{}", l.format.name(), l.width, l.height, l.rotation_degrees)),
                "frame_convert_p50_ms": frame_ms.map(|f| f.0),
                "frame_preprocess_p50_ms": frame_ms.map(|f| f.1),
                "frame_task_p50_ms": frame_ms.map(|f| f.2),
            })
        );
    } else {
        out!("model          {}", model_path.display());
        out!("load           {load_ms:.1} ms");
        out!("first run      {first_run_ms:.2} ms");
        out!("runs           {iters} (after {warmup} warm-up)");
        out!(
            "p50 / p95 / p99 {:.2} / {:.2} / {:.2} ms (mean {mean:.2}, min {:.2})",
            pct(50.0),
            pct(95.0),
            pct(99.0),
            times[0]
        );
        if let Some((name, ms, hit)) = task {
            out!("{name:<14} {ms:.2} ms p50 (decode, preprocess, run, read outputs)");
            out!(
                "cache hit      {:.3} ms p50 (the same call from the prediction cache)",
                hit
            );
        }
        if let Some((convert, preprocess, call)) = frame_ms {
            out!("frame → RGB    {convert:.3} ms p50 (YUV/packed → RGB, as stored)");
            out!("frame → input  {preprocess:.3} ms p50 (+ rotation, region, resize, normalize)");
            out!("frame call     {call:.2} ms p50 (the whole *_frame call)");
        }
        match rss {
            Some(b) => out!("peak RSS       {:.1} MB", b as f64 / 1e6),
            None => out!("peak RSS       unknown on this platform"),
        }
        if let Some(profile) = profile {
            out_raw!("\n{}", profile.to_table());
        }
    }
    Ok(())
}

/// A deterministic input in [-1, 1) (or small integers) of the input's shape and type.
fn pseudo_random_input(spec: &ledge::TensorSpec) -> ledge::Result<Tensor> {
    let shape: Vec<usize> = spec.shape.iter().map(|d| (*d).max(1) as usize).collect();
    let n: usize = shape.iter().product();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let data = match spec.dtype {
        ledge::DType::F32 => ledge::TensorData::F32(
            (0..n)
                .map(|_| (next() % 2000) as f32 / 1000.0 - 1.0)
                .collect(),
        ),
        ledge::DType::I8 => ledge::TensorData::I8((0..n).map(|_| next() as i8).collect()),
        ledge::DType::U8 => ledge::TensorData::U8((0..n).map(|_| next() as u8).collect()),
        ledge::DType::I32 => ledge::TensorData::I32((0..n).map(|_| (next() % 16) as i32).collect()),
        ledge::DType::I64 => ledge::TensorData::I64((0..n).map(|_| (next() % 16) as i64).collect()),
    };
    Tensor::new(shape, data)
}

/// Peak resident set size of this process (Linux: `VmHWM`), when the platform tells.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
