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

#[test]
#[rustfmt::skip] // the snippet is laid out as README shows it
fn the_readme_camera_frame_example_runs_as_written() -> Result<(), Box<dyn std::error::Error>> {
    use ledge::{ClassifyOptions, Frame, FrameLayout, PixelFormat};
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).unwrap();
    // README frames: begin
    let model = Model::from_path("demo-models/efficientnet-lite0/model.onnx", &LoadOptions::default())?;
    // A frame as Android's camera hands it out: NV21, stored 129×193, upright after a 90° clockwise turn.
    let nv21 = std::fs::read("demo-models/vectors/frames/coffee-nv21-90.raw")?;
    let (y, vu) = nv21.split_at(129 * 193);
    let layout = FrameLayout::packed(PixelFormat::Nv21, 129, 193).rotated(90);
    let top = model.classify_frame(&Frame::new(vec![y, vu], layout), &ClassifyOptions::top(1))?;
    println!("{:?} {:.2}", top[0].label, top[0].score); // "espresso", as the upright photo
    // README frames: end
    assert_eq!(top[0].index, 967);

    let source = include_str!("readme.rs");
    let begin = source.find("// README frames: begin\n").unwrap() + "// README frames: begin\n".len();
    let end = source.find("    // README frames: end").unwrap();
    let snippet: String = source[begin..end]
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(readme.contains(&snippet), "README.md must contain, verbatim:\n{snippet}");
    Ok(())
}
