//! Geometry: which part of the image lands where in the model's input, and the way back.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::manifest::{Filter, Resize};

/// The map from the model input's pixel coordinates back to the original image's:
/// `x_image = x_input · scale_x + offset_x` (and the same for y). Kept with every preprocessed
/// input so that anything a task finds in input coordinates (a box, a keypoint) can be mapped
/// back to the picture the user gave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Transform {
    /// Image pixels per input pixel, horizontally.
    pub scale_x: f64,
    /// Image pixels per input pixel, vertically.
    pub scale_y: f64,
    /// Image x of input x = 0.
    pub offset_x: f64,
    /// Image y of input y = 0.
    pub offset_y: f64,
}

impl Transform {
    /// The image point of input point `(x, y)`.
    pub fn to_image(&self, x: f64, y: f64) -> (f64, f64) {
        (
            x * self.scale_x + self.offset_x,
            y * self.scale_y + self.offset_y,
        )
    }
}

/// Where the image goes in a `th × tw` input: the crop box in image pixels
/// `(left, top, width, height)`, the size it is resized to and where that lands in the input
/// (the rest is padding), and the filter.
pub(crate) struct Placement {
    pub crop: (f64, f64, f64, f64),
    /// `(x, y)` of the resized image's top-left corner in the input.
    pub origin: (usize, usize),
    /// `(width, height)` of the resized image, each ≤ the input's.
    pub resized: (usize, usize),
    pub filter: Filter,
}

impl Placement {
    /// The placement `resize` asks for, for an image of `w × h` pixels.
    pub(crate) fn new(resize: &Resize, w: f64, h: f64, th: usize, tw: usize) -> Placement {
        let whole = (0.0, 0.0, w, h);
        let (crop, origin, resized, filter) = match *resize {
            Resize::CenterCrop {
                crop_fraction,
                filter,
            } => {
                let cw = crop_fraction * w.min(h * tw as f64 / th as f64);
                let ch = cw * th as f64 / tw as f64;
                let crop = ((w - cw) / 2.0, (h - ch) / 2.0, cw, ch);
                (crop, (0, 0), (tw, th), filter)
            }
            Resize::KeepAspectPad { filter, .. } => {
                let rw = ((th as f64 * w / h).ceil() as usize).clamp(1, tw);
                (whole, (0, 0), (rw, th), filter)
            }
            Resize::Stretch { filter } => (whole, (0, 0), (tw, th), filter),
            Resize::Letterbox { filter, .. } => {
                let s = (tw as f64 / w).min(th as f64 / h);
                let rw = ((w * s).round() as usize).clamp(1, tw);
                let rh = ((h * s).round() as usize).clamp(1, th);
                (whole, ((tw - rw) / 2, (th - rh) / 2), (rw, rh), filter)
            }
        };
        Placement {
            crop,
            origin,
            resized,
            filter,
        }
    }

    /// The way back from input pixels to image pixels.
    pub(crate) fn transform(&self) -> Transform {
        let (left, top, cw, ch) = self.crop;
        let scale_x = cw / self.resized.0 as f64;
        let scale_y = ch / self.resized.1 as f64;
        Transform {
            scale_x,
            scale_y,
            offset_x: left - self.origin.0 as f64 * scale_x,
            offset_y: top - self.origin.1 as f64 * scale_y,
        }
    }
}

/// Resamples the `(left, top, width, height)` box of `img` to `dw × dh` RGB bytes.
pub(crate) fn resize(
    img: &RgbImage,
    (left, top, cw, ch): (f64, f64, f64, f64),
    dw: u32,
    dh: u32,
    filter: Filter,
) -> Result<Vec<u8>> {
    let alg = match filter {
        Filter::Nearest => ResizeAlg::Nearest,
        Filter::Bilinear => ResizeAlg::Convolution(FilterType::Bilinear),
        Filter::Bicubic => ResizeAlg::Convolution(FilterType::CatmullRom),
        Filter::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
    };
    let fail = |e: String| Error::Preprocess(format!("resizing failed: {e}"));
    let src = ImageRef::new(img.width(), img.height(), img.as_raw(), PixelType::U8x3)
        .map_err(|e| fail(e.to_string()))?;
    let mut dst = Image::new(dw, dh, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(alg).crop(left, top, cw, ch);
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| fail(e.to_string()))?;
    Ok(dst.into_vec())
}

/// A box in image pixels: left, top, width and height.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BoundingBox {
    /// Left edge, pixels from the image's left.
    pub x: f32,
    /// Top edge, pixels from the image's top.
    pub y: f32,
    /// Width in pixels.
    pub width: f32,
    /// Height in pixels.
    pub height: f32,
}

impl BoundingBox {
    /// Intersection over union, in [0, 1] (0 when both are empty).
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        iou(
            [self.x, self.y, self.width, self.height],
            [other.x, other.y, other.width, other.height],
        )
    }
}

/// IoU of two `[x, y, w, h]` boxes; 0 when the union is empty.
pub(crate) fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    let inter = ix.max(0.0) * iy.max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}
