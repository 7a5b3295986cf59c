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
