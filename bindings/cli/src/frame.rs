//! `--frame FORMAT:WIDTHxHEIGHT[:ROTATION]`: raw camera frames from files (tightly packed planes,
//! one after the other), for testing and scripting what apps pass from a camera.

use std::path::Path;

use clap::Args;
use ledge::{BoundingBox, ColorMatrix, ColorRange, Error, FrameLayout, PixelFormat};

#[derive(Args)]
pub struct FrameArgs {
    /// Read each file as a raw camera frame instead of a JPEG/PNG: FORMAT:WIDTHxHEIGHT[:ROTATION],
    /// e.g. nv21:640x480:90. FORMAT is rgba, bgra, rgb, nv12, nv21 or i420 (planes tightly packed,
    /// in order); ROTATION is the clockwise turn in degrees that makes the frame upright (Android's
    /// getRotationDegrees()). Results are in the upright frame's pixels.
    #[arg(long, value_name = "FORMAT:WxH[:DEG]")]
    frame: Option<String>,
    /// With --frame: mirror the upright frame left to right (a front camera's preview).
    #[arg(long, requires = "frame")]
    mirror: bool,
    /// With --frame: the YUV matrix is BT.709 (HD video) instead of BT.601 (JPEG, Android camera).
    #[arg(long, requires = "frame")]
    bt709: bool,
    /// With --frame: YUV is video range (Y 16–235) instead of full range (0–255).
    #[arg(long, requires = "frame")]
    video_range: bool,
    /// With --frame: only this region of the upright frame, in its pixels.
    #[arg(long, requires = "frame", value_name = "X,Y,W,H")]
    region: Option<String>,
}

impl FrameArgs {
    /// The frame layout the flags give, or `None` without `--frame`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a malformed `--frame` or `--region`.
    pub fn layout(&self) -> ledge::Result<Option<FrameLayout>> {
        let Some(spec) = &self.frame else {
            return Ok(None);
        };
        let bad = |what: &str| {
            Error::InvalidArgument(format!(
                "--frame {spec}: {what}; expected FORMAT:WIDTHxHEIGHT[:ROTATION], e.g. \
                 nv21:640x480:90"
            ))
        };
        let parts: Vec<&str> = spec.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad("wrong number of ':'-separated parts"));
        }
        let format: PixelFormat = parts[0].parse()?;
        let (w, h) = parts[1]
            .split_once(['x', 'X'])
            .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            .ok_or_else(|| bad("the size is not WIDTHxHEIGHT in pixels"))?;
        let rotation = match parts.get(2) {
            Some(r) => r
                .parse()
                .map_err(|_| bad("the rotation is not a number of degrees"))?,
            None => 0,
        };
        let region = self
            .region
            .as_deref()
            .map(|r| {
                let v: Vec<f32> = r.split(',').filter_map(|n| n.trim().parse().ok()).collect();
                match v[..] {
                    [x, y, width, height] => Ok(BoundingBox {
                        x,
                        y,
                        width,
                        height,
                    }),
                    _ => Err(Error::InvalidArgument(format!(
                        "--region {r}: expected X,Y,W,H in pixels of the upright frame"
                    ))),
                }
            })
            .transpose()?;
        Ok(Some(FrameLayout {
            mirror: self.mirror,
            color_matrix: if self.bt709 {
                ColorMatrix::Bt709
            } else {
                ColorMatrix::Bt601
            },
            color_range: if self.video_range {
                ColorRange::Video
            } else {
                ColorRange::Full
            },
            region,
            ..FrameLayout::packed(format, w, h).rotated(rotation)
        }))
    }
}

/// Splits a file's bytes into the tightly packed planes of `layout`.
///
/// # Errors
/// [`Error::InvalidArgument`] when the file is not exactly one frame of that layout.
pub fn planes<'a>(
    bytes: &'a [u8],
    layout: &FrameLayout,
    path: &Path,
) -> ledge::Result<Vec<&'a [u8]>> {
    let sizes = layout.packed_plane_sizes();
    let total: usize = sizes.iter().sum();
    if bytes.len() != total {
        return Err(Error::InvalidArgument(format!(
            "{}: {} bytes, but a tightly packed {} frame of {}×{} has {total} ({}): check the \
             format and size given to --frame",
            path.display(),
            bytes.len(),
            layout.format.name(),
            layout.width,
            layout.height,
            sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" + ")
        )));
    }
    let mut rest = bytes;
    Ok(sizes
        .iter()
        .map(|&n| {
            let (plane, tail) = rest.split_at(n);
            rest = tail;
            plane
        })
        .collect())
}
