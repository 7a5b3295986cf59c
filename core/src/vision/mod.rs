//! Vision: image bytes and frames → the model's input tensor, exactly as a
//! [`Manifest`](crate::Manifest)'s `input` section says, with the geometry [`Transform`] that
//! maps input coordinates back to the image.
//!
//! The reference implementation is Pillow + NumPy (`scripts/demo_models.py`); the shared test
//! vectors hold its output tensors, and the tests compare against them.

mod decode;
mod frame;
mod geometry;

pub use decode::{check_dimensions, decode, rgba_to_rgb};
pub use frame::{ColorMatrix, ColorRange, Frame, FrameLayout, PixelFormat, PlaneLayout, Upright};
pub(crate) use geometry::iou;
pub use geometry::{BoundingBox, Transform};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::manifest::{ColorOrder, InputSpec, Layout, Resize};
use crate::tensor::Tensor;
use frame::{stored_pixel, to_stored_rect};
use geometry::{resize, Placement};

/// Builds the input tensor (batch 1) of `shape` and `dtype` for an image, per `spec`, and the
/// transform from input pixels back to the upright image's pixels. The image is turned upright
/// (rotation, mirror) and cut to its region while it is resampled: the stored pixels that the
/// region covers are resized, and written to the tensor turned.
///
/// A one-channel input gets the luma of each pixel (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B).
/// A `u8` or `i8` input (TFLite-converted models) gets `round(x · scale + offset)` clamped to the
/// type's range: the pixels as they are with the identity normalization (`scale = [1.0]`,
/// `offset = [0.0]`), or a declared zero point (`offset = [-128.0]` for `i8`).
///
/// # Errors
/// [`Error::TaskMismatch`] when `shape` is not a batch-1 image input with 1 or 3 channels in the
/// manifest's layout, or `dtype` is not f32, u8 or i8; [`Error::Manifest`] for normalization
/// values that do not fit the channels; [`Error::Preprocess`] when resizing fails.
pub fn to_tensor(
    src: &Upright,
    spec: &InputSpec,
    shape: &[usize],
    dtype: DType,
) -> Result<(Tensor, Transform)> {
    let (th, tw, channels) = match (spec.layout, shape) {
        (Layout::NCHW, [1, c @ (1 | 3), h, w]) | (Layout::NHWC, [1, h, w, c @ (1 | 3)]) => {
            (*h, *w, *c)
        }
        _ => {
            return Err(Error::TaskMismatch {
                task: "take an image",
                reason: format!(
                    "the manifest's layout {:?} wants a [1, C, H, W] (NCHW) or [1, H, W, C] \
                     (NHWC) input with C = 3 (colour) or 1 (grey), the model's input is \
                     {shape:?}: fix input.layout in the manifest, or pass tensors to run",
                    spec.layout
                ),
            })
        }
    };
    if !matches!(dtype, DType::F32 | DType::U8 | DType::I8) {
        return Err(Error::TaskMismatch {
            task: "take an image",
            reason: format!(
                "the model's image input is {dtype}; Ledge makes f32, u8 or i8 image inputs: \
                 pass tensors to run"
            ),
        });
    }
    let (uw, uh) = src.size();
    let (uw, uh) = (f64::from(uw), f64::from(uh));
    let (left, top, w, h) = src.region.unwrap_or((0.0, 0.0, uw, uh));
    let mut placement = Placement::new(&spec.resize, w, h, th, tw);
    placement.crop.0 += left;
    placement.crop.1 += top;
    let (rw, rh) = placement.resized;
    let (x0, y0) = placement.origin;
    let (rotation, mirror) = (src.rotation_degrees, src.mirror);
    let stored_crop = to_stored_rect(rotation, mirror, (uw, uh), placement.crop);
    let (sw, sh) = if rotation % 180 == 90 {
        (rh, rw)
    } else {
        (rw, rh)
    };
    let resized = resize(
        &src.image,
        stored_crop,
        sw as u32,
        sh as u32,
        placement.filter,
    )?;
    let pad = match spec.resize {
        Resize::KeepAspectPad { pad_value, .. } | Resize::Letterbox { pad_value, .. } => pad_value,
        _ => 0.0,
    };
    let affine = spec.normalize.affine(channels)?;
    let channel_of = |c: usize| match spec.color {
        ColorOrder::RGB => c,
        ColorOrder::BGR => 2 - c,
    };
    let mut data = vec![pad; th * tw * channels];
    for y in 0..rh {
        for x in 0..rw {
            let (sx, sy) = stored_pixel(rotation, mirror, (rw, rh), (x, y));
            let px = &resized[(sy * sw + sx) * 3..][..3];
            let (ty, tx) = (y0 + y, x0 + x);
            for (c, (scale, offset)) in affine.iter().enumerate() {
                let value = if channels == 1 {
                    luma(px)
                } else {
                    f32::from(px[channel_of(c)])
                };
                let at = match spec.layout {
                    Layout::NCHW => (c * th + ty) * tw + tx,
                    Layout::NHWC => (ty * tw + tx) * channels + c,
                };
                data[at] = value * scale + offset;
            }
        }
    }
    let shape = shape.to_vec();
    let tensor = match dtype {
        DType::U8 => Tensor::u8(
            shape,
            data.iter()
                .map(|&v| v.round().clamp(0.0, 255.0) as u8)
                .collect(),
        ),
        DType::I8 => Tensor::i8(
            shape,
            data.iter()
                .map(|&v| v.round().clamp(-128.0, 127.0) as i8)
                .collect(),
        ),
        _ => Tensor::f32(shape, data),
    }?;
    Ok((tensor, placement.transform()))
}

/// The luma of an RGB pixel, ITU-R BT.601 weights (as Pillow's `convert("L")`, unrounded).
fn luma(px: &[u8]) -> f32 {
    0.299 * f32::from(px[0]) + 0.587 * f32::from(px[1]) + 0.114 * f32::from(px[2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Filter, Normalize};
    use image::RgbImage;
    use std::io::Cursor;

    fn spec(resize: Resize, color: ColorOrder) -> InputSpec {
        InputSpec {
            layout: Layout::NCHW,
            color,
            resize,
            normalize: Normalize::ScaleOffset {
                scale: vec![1.0],
                offset: vec![0.0],
            },
            size: None,
        }
    }

    #[test]
    fn keep_aspect_pad_fills_the_right_with_pad_value_and_swaps_to_bgr() {
        // A 10×5 pure-red image into 48×192: resized to 96 wide, padded to 192.
        let img = RgbImage::from_pixel(10, 5, image::Rgb([255, 0, 0]));
        let resize = Resize::KeepAspectPad {
            filter: Filter::Bilinear,
            pad_value: -7.0,
        };
        let (t, tf) = to_tensor(
            &Upright::plain(img.clone()),
            &spec(resize, ColorOrder::BGR),
            &[1, 3, 48, 192],
            DType::F32,
        )
        .unwrap();
        // 10×5 resized to 96×48: 10/96 image pixels per input pixel, no offset.
        assert_eq!(tf.to_image(96.0, 48.0), (10.0, 5.0));
        let v = t.as_f32().unwrap();
        let at = |c: usize, y: usize, x: usize| v[(c * 48 + y) * 192 + x];
        assert_eq!(
            (at(0, 10, 0), at(2, 10, 0)),
            (0.0, 255.0),
            "channel 0 is blue in BGR"
        );
        assert_eq!(at(2, 47, 95), 255.0);
        assert_eq!(at(2, 0, 96), -7.0);
        assert_eq!(at(1, 20, 191), -7.0);
    }

    #[test]
    fn center_crop_keeps_only_the_centre() {
        // Left third black, middle white, right third black: a 0.33 crop sees only white.
        let img = RgbImage::from_fn(300, 100, |x, _| {
            if (100..200).contains(&x) {
                image::Rgb([255; 3])
            } else {
                image::Rgb([0; 3])
            }
        });
        let resize = Resize::CenterCrop {
            crop_fraction: 0.9,
            filter: Filter::Bicubic,
        };
        let (t, tf) = to_tensor(
            &Upright::plain(img.clone()),
            &spec(resize, ColorOrder::RGB),
            &[1, 3, 8, 8],
            DType::F32,
        )
        .unwrap();
        // The 90×90 centre crop of 300×100 starts at (105, 5).
        let (x0, y0) = tf.to_image(0.0, 0.0);
        let (x1, y1) = tf.to_image(8.0, 8.0);
        assert!(
            (x0 - 105.0).abs() < 1e-9
                && (y0 - 5.0).abs() < 1e-9
                && (x1 - 195.0).abs() < 1e-9
                && (y1 - 95.0).abs() < 1e-9
        );
        assert!(t.as_f32().unwrap().iter().all(|v| *v == 255.0));
    }

    #[test]
    fn letterbox_centres_the_image_and_maps_back() {
        // 200×100 white into 64×64: resized to 64×32, placed at y = 16, padded above and below.
        let img = RgbImage::from_pixel(200, 100, image::Rgb([255; 3]));
        let resize = Resize::Letterbox {
            filter: Filter::Bilinear,
            pad_value: -1.0,
        };
        let (t, tf) = to_tensor(
            &Upright::plain(img.clone()),
            &spec(resize, ColorOrder::RGB),
            &[1, 3, 64, 64],
            DType::F32,
        )
        .unwrap();
        let v = t.as_f32().unwrap();
        let at = |y: usize, x: usize| v[y * 64 + x];
        assert_eq!(
            (at(15, 10), at(16, 10), at(47, 63), at(48, 0)),
            (-1.0, 255.0, 255.0, -1.0)
        );
        assert_eq!(tf.to_image(0.0, 16.0), (0.0, 0.0));
        assert_eq!(tf.to_image(64.0, 48.0), (200.0, 100.0));
    }

    #[test]
    fn nhwc_layout_interleaves_channels() {
        let img = RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
        let mut s = spec(
            Resize::Stretch {
                filter: Filter::Nearest,
            },
            ColorOrder::RGB,
        );
        s.layout = Layout::NHWC;
        let (t, _) =
            to_tensor(&Upright::plain(img.clone()), &s, &[1, 2, 2, 3], DType::F32).unwrap();
        assert_eq!(t.as_f32().unwrap(), &[1.0, 2.0, 3.0].repeat(4)[..]);
    }

    #[test]
    fn grey_inputs_get_luma_and_integer_inputs_get_rounded_clamped_pixels() {
        // One pixel of (200, 100, 50): luma 0.299·200 + 0.587·100 + 0.114·50 = 124.2.
        let img = RgbImage::from_pixel(2, 2, image::Rgb([200, 100, 50]));
        let identity = spec(
            Resize::Stretch {
                filter: Filter::Nearest,
            },
            ColorOrder::RGB,
        );
        let src = Upright::plain(img);
        let (t, _) = to_tensor(&src, &identity, &[1, 1, 2, 2], DType::F32).unwrap();
        for v in t.as_f32().unwrap() {
            assert!((v - 124.2).abs() < 1e-3, "{v}");
        }
        // An NCHW manifest for an NHWC-shaped input is still refused.
        let err = to_tensor(&src, &identity, &[1, 2, 2, 1], DType::U8).unwrap_err();
        assert_eq!(err.kind(), "TaskMismatch");
        let nhwc = InputSpec {
            layout: Layout::NHWC,
            ..identity.clone()
        };
        let (t, _) = to_tensor(&src, &nhwc, &[1, 2, 2, 3], DType::U8).unwrap();
        assert_eq!(t.data(), &crate::TensorData::U8([200, 100, 50].repeat(4)));
        let (t, _) = to_tensor(&src, &nhwc, &[1, 2, 2, 1], DType::U8).unwrap();
        assert_eq!(t.data(), &crate::TensorData::U8(vec![124; 4]));
        // A zero point of −128 for i8; values past the range clamp.
        let zero_point = InputSpec {
            normalize: Normalize::ScaleOffset {
                scale: vec![1.0],
                offset: vec![-128.0],
            },
            ..nhwc.clone()
        };
        let (t, _) = to_tensor(&src, &zero_point, &[1, 2, 2, 3], DType::I8).unwrap();
        assert_eq!(t.data(), &crate::TensorData::I8([72, -28, -78].repeat(4)));
        let (t, _) = to_tensor(&src, &zero_point, &[1, 2, 2, 3], DType::U8).unwrap();
        assert_eq!(t.data(), &crate::TensorData::U8([72, 0, 0].repeat(4)));
        let e = to_tensor(&src, &nhwc, &[1, 2, 2, 3], DType::I64).unwrap_err();
        assert!(e.to_string().contains("f32, u8 or i8"), "{e}");
    }

    #[test]
    fn oversize_images_are_refused_from_the_header() {
        let img = RgbImage::new(64, 64);
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let e = decode(&png, 64 * 63, true).unwrap_err();
        assert!(matches!(
            e,
            Error::LimitExceeded {
                limit: crate::Limit::MaxImagePixels,
                value: 4096,
                ..
            }
        ));
        assert_eq!(decode(&png, 64 * 64, true).unwrap().dimensions(), (64, 64));
    }

    #[test]
    fn rgba_buffers_must_match_their_size() {
        assert_eq!(
            rgba_to_rgb(&[0; 16], 2, 2, 100).unwrap().as_raw(),
            &vec![0u8; 12]
        );
        assert_eq!(
            rgba_to_rgb(&[0; 15], 2, 2, 100).unwrap_err().kind(),
            "InvalidArgument"
        );
        assert_eq!(
            rgba_to_rgb(&[], 0, 2, 100).unwrap_err().kind(),
            "ImageDecode"
        );
    }

    #[test]
    fn turning_while_resampling_equals_turning_first() {
        // A gradient that is different in every pixel and direction.
        let img = RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 11) as u8, (x * y) as u8])
        });
        let turned = |deg: u32, mirror: bool| {
            let t = match deg {
                90 => image::imageops::rotate90(&img),
                180 => image::imageops::rotate180(&img),
                270 => image::imageops::rotate270(&img),
                _ => img.clone(),
            };
            if mirror {
                image::imageops::flip_horizontal(&t)
            } else {
                t
            }
        };
        for filter in [Filter::Nearest, Filter::Bilinear] {
            for (deg, mirror) in [
                (0, true),
                (90, false),
                (90, true),
                (180, false),
                (270, false),
                (270, true),
            ] {
                let src = Upright {
                    image: img.clone(),
                    rotation_degrees: deg,
                    mirror,
                    region: Some((3.0, 2.0, 15.0, 11.0)),
                };
                let plain = Upright {
                    image: turned(deg, mirror),
                    rotation_degrees: 0,
                    mirror: false,
                    region: src.region,
                };
                let s = spec(Resize::Stretch { filter }, ColorOrder::RGB);
                let (a, ta) = to_tensor(&src, &s, &[1, 3, 9, 13], DType::F32).unwrap();
                let (b, tb) = to_tensor(&plain, &s, &[1, 3, 9, 13], DType::F32).unwrap();
                let worst = a
                    .as_f32()
                    .unwrap()
                    .iter()
                    .zip(b.as_f32().unwrap())
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f32::max);
                assert!(
                    worst <= 1.0,
                    "{deg}° mirror {mirror} {filter:?}: off by {worst}"
                );
                // The way back lands in the whole upright image, offset by the region.
                assert_eq!((ta, ta.to_image(0.0, 0.0)), (tb, (3.0, 2.0)));
            }
        }
    }
}
