//! The lifecycle commands: keys and signatures, the baseline for drift, and the model store.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use ledge::{ClassifyOptions, DetectOptions, LoadOptions, Manifest, Model, ModelStore, Task};
use serde_json::json;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ledge::Error + '_ {
    move |e| ledge::Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Reads a key file (`ledge.key` or `ledge.pub`): its hex text.
pub fn read_key(path: &Path) -> ledge::Result<String> {
    Ok(std::fs::read_to_string(path)
        .map_err(io(path))?
        .trim()
        .to_string())
}

/// `ledge keygen --out DIR`: a new Ed25519 key pair, `DIR/ledge.key` (private, mode 0600) and
/// `DIR/ledge.pub`.
pub fn keygen(dir: &Path) -> ledge::Result<()> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| {
        ledge::Error::InvalidArgument(format!("the system has no random source: {e}"))
    })?;
    let private = hex_encode(&seed);
    let public = ledge::public_key_for(&private)?;
    let key_path = dir.join("ledge.key");
    if key_path.exists() {
        return Err(ledge::Error::InvalidArgument(format!(
            "{} exists: keygen never overwrites a private key; choose another --out",
            key_path.display()
        )));
    }
    write_private(&key_path, &private)?;
    let pub_path = dir.join("ledge.pub");
    std::fs::write(&pub_path, format!("{public}\n")).map_err(io(&pub_path))?;
    out!(
        "wrote {} (private: keep it secret) and {} (public: give it to apps as a trusted key)",
        key_path.display(),
        pub_path.display()
    );
    Ok(())
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> ledge::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    writeln!(f, "{text}").map_err(io(path))
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> ledge::Result<()> {
    std::fs::write(path, format!("{text}\n")).map_err(io(path))
}

/// `ledge verify MODEL --key PUB`: `Ok(signer)` when a trusted key signed the model.
pub fn verify(model: &Path, key: &Path) -> ledge::Result<String> {
    let key = read_key(key)?;
    let options = LoadOptions {
        trusted_keys: vec![key.clone()],
        ..LoadOptions::default()
    };
    Model::from_path(model, &options)?;
    Ok(key)
}

/// Fills `manifest.baseline` from the model's predictions on the images in `dir` (PNG/JPEG):
/// the share of top-1 confidences per bin of 0.1 and of each top-1 class.
pub fn baseline(model_bytes: &[u8], manifest: &mut Manifest, dir: &Path) -> ledge::Result<()> {
    let mut images: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
        })
        .collect();
    images.sort();
    if images.is_empty() {
        return Err(ledge::Error::InvalidArgument(format!(
            "--baseline {}: no PNG or JPEG images there; give a folder of images like the ones \
             the model will see",
            dir.display()
        )));
    }
    let options = LoadOptions {
        manifest: Some(manifest.clone()),
        ..LoadOptions::default()
    };
    let model = Model::from_bytes(model_bytes, &options)?;
    let (mut confidence, mut classes) = (vec![0.0; ledge::manifest::CONFIDENCE_BINS], vec![]);
    let mut count = 0u64;
    for image in &images {
        let top1 = match manifest.task {
            Task::Classify => model
                .classify_path(image, &ClassifyOptions::top(1))?
                .first()
                .map(|p| (p.index, p.score)),
            Task::Detect => model
                .detect_path(image, &DetectOptions::default())?
                .first()
                .map(|d| (d.index, d.score)),
            Task::Embed => {
                return Err(ledge::Error::InvalidArgument(
                    "--baseline needs a classifier or a detector: an embedding has no classes \
                     or confidence to watch"
                        .into(),
                ))
            }
        };
        let Some((index, score)) = top1 else { continue };
        let bin = ((score * 10.0) as usize).min(ledge::manifest::CONFIDENCE_BINS - 1);
        confidence[bin] += 1.0;
        if classes.len() <= index as usize {
            classes.resize(index as usize + 1, 0.0);
        }
        classes[index as usize] += 1.0;
        count += 1;
    }
    if count == 0 {
        return Err(ledge::Error::InvalidArgument(format!(
            "--baseline {}: the model predicted nothing on these {} images",
            dir.display(),
            images.len()
        )));
    }
    let labels = manifest.output.labels.len();
    if classes.len() < labels {
        classes.resize(labels, 0.0);
    }
    let share = |v: &mut Vec<f64>| v.iter_mut().for_each(|x| *x /= count as f64);
    share(&mut confidence);
    share(&mut classes);
    manifest.baseline = Some(ledge::Baseline {
        confidence,
        classes,
        threshold: manifest.baseline.as_ref().map_or(0.25, |b| b.threshold),
        samples: count,
    });
    Ok(())
}

/// `ledge store ...`: a model store on disk (see `ledge::ModelStore`).
#[derive(Subcommand)]
pub enum StoreCommand {
    /// Install a model file as a new version of NAME (atomic; not activated).
    Install {
        /// The store folder.
        dir: PathBuf,
        /// The model's name.
        name: String,
        /// The new version.
        version: String,
        /// The ONNX model file.
        model: PathBuf,
        /// Only accept it signed by this public key (repeatable).
        #[arg(long = "trusted-key", value_name = "PUB")]
        trusted_keys: Vec<PathBuf>,
    },
    /// Make VERSION the active version of NAME (the old one becomes the previous).
    Activate {
        /// The store folder.
        dir: PathBuf,
        /// The model's name.
        name: String,
        /// The installed version to activate.
        version: String,
    },
    /// Swap the active and the previous version of NAME back.
    Rollback {
        /// The store folder.
        dir: PathBuf,
        /// The model's name.
        name: String,
    },
    /// Show the versions of NAME, its active and its previous one.
    List {
        /// The store folder.
        dir: PathBuf,
        /// The model's name.
        name: String,
    },
}

/// Runs a store command.
pub fn store(command: StoreCommand) -> ledge::Result<()> {
    match command {
        StoreCommand::Install {
            dir,
            name,
            version,
            model,
            trusted_keys,
        } => {
            let options = LoadOptions {
                trusted_keys: trusted_keys
                    .iter()
                    .map(|k| read_key(k))
                    .collect::<ledge::Result<_>>()?,
                ..LoadOptions::default()
            };
            let bytes = std::fs::read(&model).map_err(io(&model))?;
            ModelStore::open(&dir, &options)?.install(&name, &version, &bytes)?;
            out!("installed {name} {version} in {}", dir.display());
        }
        StoreCommand::Activate { dir, name, version } => {
            let store = ModelStore::open(&dir, &LoadOptions::default())?;
            // The swap itself: loading the version and making it the active one.
            let started = std::time::Instant::now();
            store.activate(&name, &version)?;
            out!(
                "{name}: {version} is active ({:.1} ms to load and swap in)",
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        StoreCommand::Rollback { dir, name } => {
            let store = ModelStore::open(&dir, &LoadOptions::default())?;
            store.rollback(&name)?;
            out!("{name}: {} is active", store.active(&name)?.version);
        }
        StoreCommand::List { dir, name } => {
            let (versions, active, previous) =
                ModelStore::open(&dir, &LoadOptions::default())?.versions(&name);
            out!(
                "{}",
                json!({"name": name, "versions": versions, "active": active, "previous": previous})
            );
        }
    }
    Ok(())
}
