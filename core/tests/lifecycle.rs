//! The model lifecycle: batches, the prediction cache, signed packages, the versioned store
//! (hot swap under load, rollback, crash safety, shadow runs) and drift.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{cases, demo, load, read};
use ledge::{
    CacheOptions, ClassifyOptions, LoadOptions, Manifest, Model, ModelStore, ShadowPolicy,
};

const IMAGES: [&str; 3] = [
    "images/chelsea.png",
    "images/coffee.png",
    "images/camera.png",
];

#[test]
fn batch_results_equal_single_results_at_several_sizes() {
    let all = ClassifyOptions::top(1000);
    for model_rel in ["efficientnet-lite0/model.onnx", "ppocr-cls/model.onnx"] {
        let model = load(model_rel);
        let images: Vec<Vec<u8>> = cases()
            .iter()
            .filter(|c| c.model == model_rel && c.level == "image" && c.manifest.is_none())
            .map(|c| read(&c.image))
            .collect();
        assert!(images.len() >= 3, "{model_rel}: {} images", images.len());
        let single: Vec<_> = images
            .iter()
            .map(|b| model.classify_encoded(b, &all).unwrap())
            .collect();
        for n in [1, 2, 3, images.len()] {
            for chunk in images.chunks(n).zip(single.chunks(n)) {
                let batch = model.classify_batch(chunk.0, &all).unwrap();
                for (b, s) in batch.iter().zip(chunk.1) {
                    assert_eq!(b.len(), s.len());
                    for (x, y) in b.iter().zip(s) {
                        assert_eq!(x.index, y.index, "{model_rel} batch {n}");
                        assert!((x.score - y.score).abs() <= 1e-6, "{model_rel} batch {n}");
                    }
                }
            }
        }
    }
    let model = load("efficientnet-lite0/model.onnx");
    assert!(model
        .classify_batch::<Vec<u8>>(&[], &all)
        .unwrap()
        .is_empty());
    let e = model
        .classify_batch(
            &[read("images/chelsea.png"), b"not an image".to_vec()],
            &all,
        )
        .unwrap_err();
    assert_eq!(e.kind(), "ImageDecode");
    assert_eq!(model.stats().errors["ImageDecode"], 1);
}

#[test]
fn cache_hits_return_what_a_miss_computed_and_are_counted() {
    let options = LoadOptions {
        cache: Some(CacheOptions {
            max_entries: 2,
            max_bytes: 1 << 20,
        }),
        ..LoadOptions::default()
    };
    let model = Model::from_path(demo().join("efficientnet-lite0/model.onnx"), &options).unwrap();
    let top = ClassifyOptions::top(5);
    let cat = read("images/chelsea.png");
    let miss = model.classify_encoded(&cat, &top).unwrap();
    let hit = model.classify_encoded(&cat, &top).unwrap();
    assert_eq!(hit, miss);
    // Other options are another entry.
    let top1 = model
        .classify_encoded(&cat, &ClassifyOptions::top(1))
        .unwrap();
    assert_eq!(top1[..], miss[..1]);
    let s = model.stats();
    assert_eq!((s.cache_hits, s.cache_misses, s.runs), (1, 2, 3));
    // Two entries at most: a third key (coffee) evicts the least recently used, cat's top-5.
    model
        .classify_encoded(&read("images/coffee.png"), &top)
        .unwrap();
    model.classify_encoded(&cat, &top).unwrap();
    assert_eq!(model.stats().cache_misses, 4, "the top-5 entry was evicted");
    let detector =
        Model::from_path(demo().join("ssd-mobilenetv2-oid/model.onnx"), &options).unwrap();
    let d = ledge::DetectOptions::default();
    assert_eq!(
        detector.detect_encoded(&cat, &d).unwrap(),
        detector.detect_encoded(&cat, &d).unwrap()
    );
    assert_eq!(detector.stats().cache_hits, 1);
}

fn signed_model(key: &str) -> Vec<u8> {
    let bytes = read("ppocr-cls/model.onnx");
    let text = std::fs::read_to_string(demo().join("ppocr-cls/manifest.toml")).unwrap();
    let mut m = Manifest::from_toml(&text).unwrap();
    m.output.labels = vec!["0".into(), "180".into()];
    ledge::pack_signed(&bytes, &m, key).unwrap()
}

#[test]
fn signatures_refuse_unsigned_tampered_foreign_and_re_manifested_models() {
    let secret = "11".repeat(32);
    let public = ledge::public_key_for(&secret).unwrap();
    let public = public.as_str();
    let signed = signed_model(&secret);
    let trusting = |keys: Vec<String>| LoadOptions {
        trusted_keys: keys,
        ..LoadOptions::default()
    };
    let problem = |bytes: &[u8], keys: Vec<String>| match Model::from_bytes(bytes, &trusting(keys))
    {
        Ok(_) => "loaded".to_string(),
        Err(ledge::Error::Signature { problem, .. }) => problem.name().to_string(),
        Err(e) => format!("{}: {e}", e.kind()),
    };
    assert_eq!(problem(&signed, vec![public.into()]), "loaded");
    // Without trusted keys, a signed model loads like any other.
    assert!(Model::from_bytes(&signed, &LoadOptions::default()).is_ok());
    assert_eq!(
        problem(&read("ppocr-cls/model.onnx"), vec![public.into()]),
        "unsigned"
    );
    let other = "22".repeat(32);
    let other_public = ledge::public_key_for(&other).unwrap();
    assert_eq!(problem(&signed, vec![other_public]), "untrusted_key");
    // One weight byte flipped (the middle of the file is an initializer).
    let mut tampered = signed.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 1;
    assert_eq!(problem(&tampered, vec![public.into()]), "invalid");
    // The same model signed by the other key, with this key's signature grafted on: the
    // manifest differs (its labels), so the signature does not match.
    let text = std::fs::read_to_string(demo().join("ppocr-cls/manifest.toml")).unwrap();
    let mut m = Manifest::from_toml(&text).unwrap();
    m.output.labels = vec!["up".into(), "down".into()];
    let foreign = ledge::pack_signed(&read("ppocr-cls/model.onnx"), &m, &other).unwrap();
    let sig = |b: &[u8]| {
        b.windows(15)
            .rposition(|w| w == b"ledge.signature")
            .unwrap()
    };
    let mut swapped = foreign[..sig(&foreign)].to_vec();
    swapped.extend_from_slice(&signed[sig(&signed)..]);
    assert_eq!(problem(&swapped, vec![public.into()]), "invalid");
    // A sidecar/option manifest would bypass the signature: refused.
    let e = Model::from_bytes(
        &signed,
        &LoadOptions {
            manifest: Some(m),
            ..trusting(vec![public.into()])
        },
    )
    .err()
    .unwrap();
    assert_eq!(e.kind(), "Signature");
    let e = Model::from_bytes(&signed, &trusting(vec!["zz".into()]))
        .err()
        .unwrap();
    assert_eq!(e.kind(), "InvalidArgument");
}

#[test]
fn eight_threads_classify_while_versions_swap_and_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ModelStore::open(dir.path(), &LoadOptions::default()).unwrap());
    let effnet = read("efficientnet-lite0/model.onnx");
    store.install("main", "v1", &effnet).unwrap();
    store.install("main", "v2", &effnet).unwrap();
    store.activate("main", "v1").unwrap();
    let e = store.install("main", "v1", &effnet).unwrap_err();
    assert_eq!(e.kind(), "InvalidArgument");
    let e = store.install("main", "v3", b"junk").unwrap_err();
    assert_eq!(e.kind(), "ModelFormat");
    assert_eq!(store.versions("main").0, vec!["v1", "v2"]);

    let cat = read("images/chelsea.png");
    let expected = load("efficientnet-lite0/model.onnx")
        .classify_encoded(&cat, &ClassifyOptions::top(3))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (store, stop, cat, expected) =
                (store.clone(), stop.clone(), cat.clone(), expected.clone());
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeMap::<String, u64>::new();
                while !stop.load(Ordering::Relaxed) {
                    let served = store
                        .classify_encoded("main", &cat, &ClassifyOptions::top(3))
                        .unwrap();
                    assert_eq!(served.predictions, expected);
                    *seen.entry(served.version).or_default() += 1;
                }
                seen
            })
        })
        .collect();
    let swaps = 30;
    for i in 0..swaps {
        if i % 3 == 2 {
            store.rollback("main").unwrap();
        } else {
            store
                .activate("main", if i % 2 == 0 { "v2" } else { "v1" })
                .unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = std::collections::BTreeMap::<String, u64>::new();
    for w in workers {
        for (v, n) in w.join().unwrap() {
            *total.entry(v).or_default() += n;
        }
    }
    assert!(total.keys().all(|v| v == "v1" || v == "v2"), "{total:?}");
    assert!(total.values().sum::<u64>() >= 8, "{total:?}");
    // The store reopens in the state it was left in.
    let (_, active, previous) = store.versions("main");
    drop(store);
    let reopened = ModelStore::open(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(reopened.versions("main").1, active);
    assert_eq!(reopened.versions("main").2, previous);
    assert_eq!(
        reopened.active("main").unwrap().version,
        active.clone().unwrap()
    );
    reopened.rollback("main").unwrap();
    assert_eq!(reopened.active("main").unwrap().version, previous.unwrap());
}

/// The child side of the crash test: installs versions in a loop until killed.
#[test]
fn crash_child_installs_until_killed() {
    let Ok(dir) = std::env::var("LEDGE_CRASH_CHILD_DIR") else {
        return; // only runs as the child of the crash test
    };
    let store = ModelStore::open(&dir, &LoadOptions::default()).unwrap();
    let effnet = read("efficientnet-lite0/model.onnx");
    for i in 0.. {
        let v = format!("c{i}");
        store.install("main", &v, &effnet).unwrap();
        store.activate("main", &v).unwrap();
    }
}

#[test]
fn a_kill_during_install_never_breaks_the_active_version() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = ModelStore::open(dir.path(), &LoadOptions::default()).unwrap();
        store
            .install("main", "base", &read("efficientnet-lite0/model.onnx"))
            .unwrap();
        store.activate("main", "base").unwrap();
    }
    let cat = read("images/chelsea.png");
    let exe = std::env::current_exe().unwrap();
    for delay_ms in [150, 400, 900, 1700] {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "crash_child_installs_until_killed",
                "--nocapture",
            ])
            .env("LEDGE_CRASH_CHILD_DIR", dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL: no destructor, no flush
        child.wait().unwrap();
        let store = ModelStore::open(dir.path(), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("after a kill at {delay_ms} ms: {e}"));
        let active = store.active("main").unwrap();
        let top = active
            .model
            .classify_encoded(&cat, &ClassifyOptions::top(1))
            .unwrap();
        assert_eq!(
            top[0].label.as_deref(),
            Some("tiger cat"),
            "{}",
            active.version
        );
    }
}

#[test]
fn a_shadow_candidate_that_agrees_is_promoted_and_one_that_does_not_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path(), &LoadOptions::default()).unwrap();
    let effnet = read("efficientnet-lite0/model.onnx");
    store.install("main", "v1", &effnet).unwrap();
    store.install("main", "v2", &effnet).unwrap();
    store.activate("main", "v1").unwrap();
    let policy = ShadowPolicy {
        sample_rate: 0.5,
        min_samples: 4,
        min_agreement: 0.95,
        max_latency_ratio: 3.0,
        auto_decide: true,
        background: false,
    };
    store.set_candidate("main", "v2", policy.clone()).unwrap();
    let photos: Vec<Vec<u8>> = IMAGES.iter().map(|i| read(i)).collect();
    for i in 0..8 {
        let served = store
            .classify_encoded("main", &photos[i % 3], &ClassifyOptions::top(1))
            .unwrap();
        assert!(served.version == "v1" || served.version == "v2");
    }
    assert_eq!(store.active("main").unwrap().version, "v2", "promoted");
    assert_eq!(store.versions("main").2.as_deref(), Some("v1"));

    // A candidate that disagrees: the text-orientation model's "0"/"180" answers never match
    // ImageNet classes' indices 282, 967, ... (it does not load as the same task? it does:
    // both are classifiers), so agreement is 0 and it is rejected.
    store
        .install("main", "bad", &read("ppocr-cls/model.onnx"))
        .unwrap();
    store.set_candidate("main", "bad", policy).unwrap();
    for i in 0..8 {
        store
            .classify_encoded("main", &photos[i % 3], &ClassifyOptions::top(1))
            .unwrap();
    }
    let r = store.shadow_report("main").unwrap();
    assert_eq!((r.decision.as_str(), r.samples), ("rejected", 4), "{r:?}");
    assert!(r.agreement < 0.5, "{r:?}");
    assert_eq!(store.active("main").unwrap().version, "v2");
    let bad = ShadowPolicy {
        sample_rate: 0.0,
        ..ShadowPolicy::default()
    };
    assert_eq!(
        store.set_candidate("main", "v1", bad).unwrap_err().kind(),
        "InvalidArgument"
    );
}

#[test]
fn drift_stays_low_on_photos_like_the_baseline_and_rises_on_text_lines() {
    // The baseline: the three test photos; live: their mirror images (in distribution) or the
    // rendered text lines (out of distribution for an ImageNet model).
    let model = load("efficientnet-lite0/model.onnx");
    let top = ClassifyOptions::top(1);
    let mut confidence = vec![0.0; 10];
    let mut classes = vec![0.0; 1000];
    for image in IMAGES {
        let p = &model.classify_encoded(&read(image), &top).unwrap()[0];
        confidence[((p.score * 10.0) as usize).min(9)] += 1.0 / 3.0;
        classes[p.index as usize] += 1.0 / 3.0;
    }
    let text = std::fs::read_to_string(demo().join("efficientnet-lite0/manifest.toml")).unwrap();
    let mut m = Manifest::from_toml(&text).unwrap();
    m.output.labels_file = None;
    m.baseline = Some(ledge::Baseline {
        confidence,
        classes,
        threshold: 0.25,
        samples: 3,
    });
    let with_baseline = || {
        Model::from_path(
            demo().join("efficientnet-lite0/model.onnx"),
            &LoadOptions {
                manifest: Some(m.clone()),
                ..LoadOptions::default()
            },
        )
        .unwrap()
    };
    let same = with_baseline();
    for _ in 0..7 {
        for image in [
            "images/chelsea_mirror.png",
            "images/coffee_mirror.png",
            "images/camera_mirror.png",
        ] {
            same.classify_encoded(&read(image), &top).unwrap();
        }
    }
    let d = same.stats().drift.unwrap();
    assert!(!d.drifted && d.score < 0.25, "{d:?}");
    let shifted = with_baseline();
    let lines: Vec<String> = std::fs::read_dir(demo().join("images"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("line"))
        .collect();
    assert!(lines.len() >= 10);
    for _ in 0..2 {
        for l in &lines {
            shifted
                .classify_encoded(&read(&format!("images/{l}")), &top)
                .unwrap();
        }
    }
    let d = shifted.stats().drift.unwrap();
    assert!(d.drifted && d.score > 1.0, "{d:?}");
    let s = shifted.stats();
    assert!(s.mean_entropy.unwrap() > same.stats().mean_entropy.unwrap());
    assert_eq!(
        s.confidence_histogram.iter().sum::<u64>(),
        s.classifications
    );
}

/// The signed fixtures every language loads (`demo-models/fixtures/signed/expected.json`,
/// written by `scripts/make-signed-fixtures.sh`).
#[test]
fn the_shared_signed_fixtures_give_their_expected_problems() {
    let dir = demo().join("fixtures/signed");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let key = std::fs::read_to_string(dir.join(expected["trusted_key"].as_str().unwrap()))
        .unwrap()
        .trim()
        .to_string();
    let cases = expected["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let model = case["model"].as_str().unwrap();
        let options = LoadOptions {
            trusted_keys: vec![key.clone()],
            ..LoadOptions::default()
        };
        let got = match Model::from_path(dir.join(model), &options) {
            Ok(_) => None,
            Err(ledge::Error::Signature { problem, .. }) => Some(problem.name()),
            Err(e) => panic!("{model}: {e}"),
        };
        assert_eq!(got, case["problem"].as_str(), "{model}");
    }
}

/// Resident memory of this process, in bytes (Linux).
#[cfg(target_os = "linux")]
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[cfg(target_os = "linux")]
#[test]
fn memory_stays_flat_over_many_swaps() {
    let store = ModelStore::in_memory(&LoadOptions::default());
    let bytes = read("ppocr-cls/model.onnx");
    store.install("ocr", "a", &bytes).unwrap();
    store.install("ocr", "b", &bytes).unwrap();
    let line = read("images/line0_0.png");
    let cycle = |n: usize| {
        for i in 0..n {
            store
                .activate("ocr", if i % 2 == 0 { "a" } else { "b" })
                .unwrap();
            store
                .classify_encoded("ocr", &line, &ClassifyOptions::top(1))
                .unwrap();
        }
    };
    cycle(20); // warm-up: allocator pools, the engine's lazily built tables
    let before = rss_bytes();
    cycle(200);
    let grown = rss_bytes().saturating_sub(before);
    // Two versions are loaded at any time (~1 MB each); 200 swaps that leaked one model each
    // would add well over 100 MB.
    assert!(
        grown < 16 << 20,
        "RSS grew by {} MB over 200 swaps",
        grown >> 20
    );
}

#[test]
fn a_background_shadow_run_leaves_the_call_and_promotes_at_the_next_one() {
    let store = ModelStore::in_memory(&LoadOptions::default());
    let effnet = read("efficientnet-lite0/model.onnx");
    store.install("main", "v1", &effnet).unwrap();
    store.install("main", "v2", &effnet).unwrap();
    store.activate("main", "v1").unwrap();
    let policy = ShadowPolicy {
        sample_rate: 1.0,
        min_samples: 3,
        max_latency_ratio: 10.0,
        background: true,
        ..ShadowPolicy::default()
    };
    store.set_candidate("main", "v2", policy).unwrap();
    let cat = read("images/chelsea.png");
    for _ in 0..3 {
        let served = store
            .classify_encoded("main", &cat, &ClassifyOptions::top(1))
            .unwrap();
        assert_eq!(served.version, "v1");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let r = store.shadow_report("main").unwrap();
        if r.decision != "pending" {
            assert_eq!((r.decision.as_str(), r.samples), ("promoting", 3), "{r:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no decision: {r:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let served = store
        .classify_encoded("main", &cat, &ClassifyOptions::top(1))
        .unwrap();
    assert_eq!(served.version, "v2", "promoted before the next call");
    assert!(store.shadow_report("main").is_none());
}

#[test]
fn each_loaded_version_keeps_its_own_statistics() {
    let store = ModelStore::in_memory(&LoadOptions::default());
    let bytes = read("ppocr-cls/model.onnx");
    store.install("ocr", "a", &bytes).unwrap();
    store.install("ocr", "b", &bytes).unwrap();
    store.install("ocr", "c", &bytes).unwrap();
    let line = read("images/line0_0.png");
    let classify = || {
        store
            .classify_encoded("ocr", &line, &ClassifyOptions::top(1))
            .unwrap()
    };
    store.activate("ocr", "a").unwrap();
    classify();
    classify();
    store.activate("ocr", "b").unwrap();
    classify();
    // "a" is the previous version now, kept loaded for rollback, with its own counts.
    assert_eq!(store.stats("ocr", "a").unwrap().classifications, 2);
    assert_eq!(store.stats("ocr", "b").unwrap().classifications, 1);
    // "c" is installed but not loaded: nothing to report, and the error says what is.
    let e = store.stats("ocr", "c").unwrap_err();
    assert_eq!(e.kind(), "InvalidArgument");
    assert!(e.to_string().contains("(b, a)"), "{e}");
}
