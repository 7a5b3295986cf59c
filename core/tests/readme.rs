//! README's detection and embedding quick start, run as written: the code between the markers
//! below must appear verbatim in README.md (checked here), and it runs against the demo models.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use ledge::{DetectOptions, LoadOptions, Model};

#[test]
#[rustfmt::skip] // the snippet is laid out as README shows it
fn the_readme_quick_start_runs_as_written() -> ledge::Result<()> {
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).unwrap();
    // README: begin
    let detector = Model::from_path("demo-models/ssd-mobilenetv2-oid/model.onnx", &LoadOptions::default())?;
    for d in detector.detect_path("demo-models/images/chelsea.png", &DetectOptions::default())? {
        let b = d.bounding_box; // pixels of the image given, after its EXIF orientation
        println!("{:.2} {:?} at x {:.0} y {:.0}, {:.0}×{:.0}", d.score, d.label, b.x, b.y, b.width, b.height);
    }
    let embedder = Model::from_path("demo-models/efficientnet-lite0-embed/model.onnx", &LoadOptions::default())?;
    let cat = embedder.embed_path("demo-models/images/chelsea.png")?;
    let mirror = embedder.embed_path("demo-models/images/chelsea_mirror.png")?;
    println!("cosine {:.3}", cat.cosine_similarity(&mirror)?); // 0.9+: the same photo, mirrored
    // README: end
    assert!(cat.cosine_similarity(&mirror)? >= 0.9);

    let source = include_str!("readme.rs");
    let begin = source.find("// README: begin\n").unwrap() + "// README: begin\n".len();
    let end = source.find("    // README: end").unwrap();
    let snippet: String = source[begin..end]
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(
        readme.contains(&snippet),
        "README.md must contain, verbatim:\n{snippet}"
    );
    Ok(())
}
