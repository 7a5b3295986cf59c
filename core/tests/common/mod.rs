//! Helpers shared by the integration tests: the demo models and the shared vectors.
#![allow(dead_code)]

use std::path::PathBuf;

use serde::Deserialize;

/// `demo-models/` at the repository root.
pub fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../demo-models")
}

#[derive(Debug, Deserialize)]
pub struct Cases {
    pub format: u32,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub name: String,
    pub level: String,
    pub model: String,
    pub manifest: Option<String>,
    pub image: String,
    pub tensor: String,
    pub top_k: usize,
    pub expected: Vec<Expected>,
    pub tolerance: f32,
}

#[derive(Debug, Deserialize)]
pub struct Expected {
    pub index: usize,
    pub label: Option<String>,
    pub score: f32,
}

pub fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(demo().join("vectors/cases.json")).unwrap();
    let cases: Cases = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.format, 1);
    cases.cases
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(demo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn load(rel: &str) -> ledge::Model {
    ledge::Model::from_path(demo().join(rel), &ledge::LoadOptions::default())
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `demo-models/vectors/detect.json` (the rule: scripts/task_models.py and README "Test vectors").
#[derive(Debug, Deserialize)]
pub struct DetectCases {
    pub format: u32,
    pub cases: Vec<DetectCase>,
}

#[derive(Debug, Deserialize)]
pub struct DetectCase {
    pub name: String,
    pub model: String,
    pub image: String,
    #[serde(default)]
    pub options: ledge::DetectOptions,
    pub expected: Vec<ExpectedDetection>,
    pub min_iou: f32,
    pub score_tolerance: f32,
}

#[derive(Debug, Deserialize)]
pub struct ExpectedDetection {
    pub index: u32,
    pub label: Option<String>,
    pub score: f32,
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    #[serde(default)]
    pub keypoints: Vec<[f32; 2]>,
}

pub fn detect_cases() -> Vec<DetectCase> {
    let text = std::fs::read_to_string(demo().join("vectors/detect.json")).unwrap();
    let cases: DetectCases = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.format, 1);
    cases.cases
}

/// `demo-models/vectors/embed.json`.
#[derive(Debug, Deserialize)]
pub struct EmbedCases {
    pub format: u32,
    pub cases: Vec<EmbedCase>,
    pub pairs: Vec<EmbedPair>,
}

#[derive(Debug, Deserialize)]
pub struct EmbedCase {
    pub name: String,
    pub model: String,
    pub image: String,
    pub expected: Vec<f32>,
    pub min_cosine: f32,
}

#[derive(Debug, Deserialize)]
pub struct EmbedPair {
    pub model: String,
    pub a: String,
    pub b: String,
    pub cosine: f32,
    pub tolerance: f32,
}

pub fn embed_cases() -> EmbedCases {
    let text = std::fs::read_to_string(demo().join("vectors/embed.json")).unwrap();
    let cases: EmbedCases = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.format, 1);
    cases
}

/// Matches `expected` detections to `actual` ones (same class, best IoU first, greedily) and
/// returns a description of every mismatch: the rule every language applies.
pub fn detection_mismatches(case: &DetectCase, actual: &[ledge::Detection]) -> Vec<String> {
    let mut problems = Vec::new();
    if actual.len() != case.expected.len() {
        problems.push(format!(
            "{} detections, expected {}",
            actual.len(),
            case.expected.len()
        ));
    }
    let mut taken = vec![false; actual.len()];
    for e in &case.expected {
        let [x, y, width, height] = e.bbox;
        let want = ledge::BoundingBox {
            x,
            y,
            width,
            height,
        };
        let best = actual
            .iter()
            .enumerate()
            .filter(|(i, a)| !taken[*i] && a.index == e.index)
            .map(|(i, a)| (i, a.bounding_box.iou(&want)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, iou)) if iou >= case.min_iou => {
                taken[i] = true;
                let a = &actual[i];
                if (a.score - e.score).abs() > case.score_tolerance {
                    problems.push(format!(
                        "class {} score {} vs {}",
                        e.index, a.score, e.score
                    ));
                }
                if a.label != e.label || a.keypoints.len() != e.keypoints.len() {
                    problems.push(format!(
                        "class {}: label {:?} / {} keypoints vs {:?} / {}",
                        e.index,
                        a.label,
                        a.keypoints.len(),
                        e.label,
                        e.keypoints.len()
                    ));
                }
            }
            other => problems.push(format!(
                "class {} box {:?}: best IoU {:?}",
                e.index,
                e.bbox,
                other.map(|o| o.1)
            )),
        }
    }
    problems
}
