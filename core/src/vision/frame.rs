//! Camera frames: pixel buffers as cameras hand them out — RGBA, BGRA, RGB, NV12, NV21 and
//! I420 / Android's YUV_420_888 — with row and pixel strides per plane, the rotation and mirror
//! that turn them upright, and an optional region of interest.
//!
//! YUV → RGB is `yuvutils-rs` (SIMD on NEON, AVX2, SSE and wasm SIMD128). Rotation, mirror and
//! region are not applied to the frame: [`super::to_tensor`] resamples the stored pixels that the
//! upright region covers and writes them turned, so a 90° frame costs no extra pass.

use image::RgbImage;
use serde::{Deserialize, Serialize};
use yuvutils_rs::{yuv420_to_rgb, YuvPlanarImage, YuvRange, YuvStandardMatrix};

use super::{check_dimensions, BoundingBox};
use crate::error::{Error, Result};

/// How a frame's pixels are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PixelFormat {
    /// One plane, 4 bytes a pixel: R, G, B, A (Android `Bitmap` ARGB_8888, canvas `ImageData`).
    Rgba,
    /// One plane, 4 bytes a pixel: B, G, R, A (iOS `kCVPixelFormatType_32BGRA`).
    Bgra,
    /// One plane, 3 bytes a pixel: R, G, B.
    Rgb,
    /// Two planes: Y, then interleaved U, V at half resolution (iOS
    /// `420YpCbCr8BiPlanarFullRange`, WebCodecs `NV12`).
    Nv12,
    /// Two planes: Y, then interleaved V, U at half resolution (Android camera1 default).
    Nv21,
    /// Three planes: Y, U, V, chroma at half resolution, each with its own row and pixel stride:
    /// I420 when the chroma pixel strides are 1, Android's `YUV_420_888` (`ImageProxy`) with any.
    I420,
}

impl PixelFormat {
    /// Every format, in declaration order.
    pub const ALL: [PixelFormat; 6] = [
        PixelFormat::Rgba,
        PixelFormat::Bgra,
        PixelFormat::Rgb,
        PixelFormat::Nv12,
        PixelFormat::Nv21,
        PixelFormat::I420,
    ];

    /// The lowercase name (`"nv21"`), as the CLI and the JSON vectors spell it.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgba => "rgba",
            PixelFormat::Bgra => "bgra",
            PixelFormat::Rgb => "rgb",
            PixelFormat::Nv12 => "nv12",
            PixelFormat::Nv21 => "nv21",
            PixelFormat::I420 => "i420",
        }
    }

    /// How many planes a frame of this format has.
    pub fn plane_count(self) -> usize {
        match self {
            PixelFormat::Rgba | PixelFormat::Bgra | PixelFormat::Rgb => 1,
            PixelFormat::Nv12 | PixelFormat::Nv21 => 2,
            PixelFormat::I420 => 3,
        }
    }

    /// Bytes per pixel of `plane` when tightly packed (chroma planes count their samples).
    fn packed_pixel_stride(self, plane: usize) -> u32 {
        match (self, plane) {
            (PixelFormat::Rgba | PixelFormat::Bgra, _) => 4,
            (PixelFormat::Rgb, _) => 3,
            (PixelFormat::Nv12 | PixelFormat::Nv21, 1) => 2,
            _ => 1,
        }
    }

    /// `(width, height)` in samples of `plane` for a `width × height` frame.
    fn plane_size(self, plane: usize, width: u32, height: u32) -> (u32, u32) {
        if plane == 0 {
            (width, height)
        } else {
            (width.div_ceil(2), height.div_ceil(2))
        }
    }
}

impl std::str::FromStr for PixelFormat {
    type Err = Error;

    /// Parses a [`PixelFormat::name`] (any case); `yuv420` and `yuv_420_888` name `I420`.
    fn from_str(s: &str) -> Result<PixelFormat> {
        let lower = s.to_ascii_lowercase();
        if lower == "yuv420" || lower == "yuv_420_888" {
            return Ok(PixelFormat::I420);
        }
        PixelFormat::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unknown pixel format '{s}': expected one of rgba, bgra, rgb, nv12, nv21, \
                     i420 (or yuv_420_888)"
                ))
            })
    }
}

/// The YUV → RGB matrix of a YUV frame (ignored for RGB formats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ColorMatrix {
    /// ITU-R BT.601: JPEG/JFIF, Android camera frames, SD video (the default).
    #[default]
    Bt601,
    /// ITU-R BT.709: HD video (most iOS video formats, many WebCodecs decoders).
    Bt709,
}

/// Whether Y spans 0–255 or 16–235 (chroma 16–240) in a YUV frame (ignored for RGB formats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ColorRange {
    /// 0–255 (JFIF; Android camera YUV; iOS `…FullRange`). The default.
    #[default]
    Full,
    /// 16–235 ("video" or "limited" range: iOS `…VideoRange`, most decoded video).
    Video,
}

/// The strides of one plane, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PlaneLayout {
    /// Bytes from the start of one row to the start of the next (Android `getRowStride()`).
    pub row_stride: u32,
    /// Bytes from one sample to the next within a row (Android `getPixelStride()`): 4 for RGBA
    /// and BGRA, 3 for RGB, 1 for Y, 2 for an NV12/NV21 UV plane, 1 or 2 for I420 chroma.
    pub pixel_stride: u32,
}

/// Everything about a frame except its bytes: format, size, strides, the turn that makes it
/// upright, colour, and the region to look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FrameLayout {
    /// How the pixels are stored.
    pub format: PixelFormat,
    /// Stored width in pixels (before rotation).
    pub width: u32,
    /// Stored height in pixels (before rotation).
    pub height: u32,
    /// One entry per plane, or empty when every plane is tightly packed (row stride = width ×
    /// bytes per sample, rounded up to whole chroma samples).
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub planes: Vec<PlaneLayout>,
    /// The clockwise rotation, in degrees, that turns the stored frame upright: 0, 90, 180 or
    /// 270 — what Android's `ImageInfo.getRotationDegrees()` says.
    #[cfg_attr(feature = "uniffi", uniffi(default = 0))]
    pub rotation_degrees: u32,
    /// Mirror the upright frame left to right (after rotation), as a front camera's preview
    /// shows it; results are then in mirrored coordinates.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub mirror: bool,
    /// YUV formats: the colour matrix (default BT.601).
    pub color_matrix: ColorMatrix,
    /// YUV formats: full or video range (default full).
    pub color_range: ColorRange,
    /// The part of the upright (rotated, mirrored) frame to look at, in its pixels; `None` for
    /// all of it. Results come back in the whole upright frame's pixels.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub region: Option<BoundingBox>,
}

impl Default for FrameLayout {
    fn default() -> Self {
        FrameLayout::packed(PixelFormat::Rgba, 0, 0)
    }
}

impl FrameLayout {
    /// A tightly packed, upright frame of `width × height` pixels in BT.601 full range.
    pub fn packed(format: PixelFormat, width: u32, height: u32) -> FrameLayout {
        FrameLayout {
            format,
            width,
            height,
            planes: vec![],
            rotation_degrees: 0,
            mirror: false,
            color_matrix: ColorMatrix::Bt601,
            color_range: ColorRange::Full,
            region: None,
        }
    }

    /// The same layout turned by `degrees` (clockwise, to make it upright).
    pub fn rotated(mut self, degrees: u32) -> FrameLayout {
        self.rotation_degrees = degrees;
        self
    }

    /// `(width, height)` of the upright frame: swapped for 90° and 270°.
    pub fn upright_size(&self) -> (u32, u32) {
        turned_size(self.width, self.height, self.rotation_degrees)
    }

    /// The layout of every plane: the given one, or the tightly packed one.
    fn plane_layouts(&self) -> Vec<PlaneLayout> {
        if !self.planes.is_empty() {
            return self.planes.clone();
        }
        (0..self.format.plane_count())
            .map(|p| {
                let pixel_stride = self.format.packed_pixel_stride(p);
                let (w, _) = self.format.plane_size(p, self.width, self.height);
                PlaneLayout {
                    row_stride: w * pixel_stride,
                    pixel_stride,
                }
            })
            .collect()
    }

    /// Bytes each plane needs, tightly packed: what to allocate for a frame of this layout.
    pub fn packed_plane_sizes(&self) -> Vec<usize> {
        FrameLayout {
            planes: vec![],
            ..self.clone()
        }
        .plane_layouts()
        .iter()
        .enumerate()
        .map(|(p, l)| {
            let (_, h) = self.format.plane_size(p, self.width, self.height);
            l.row_stride as usize * h as usize
        })
        .collect()
    }
}

/// A frame: its planes' bytes and their [`FrameLayout`]. Borrowed, so a camera buffer (a JNI
/// direct `ByteBuffer`, a locked `CVPixelBuffer`) is read in place.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    /// The planes, in the format's order (Y, U, V / Y, UV / one packed plane).
    pub planes: Vec<&'a [u8]>,
    /// Format, size, strides, rotation, colour and region.
    pub layout: FrameLayout,
}

/// A frame converted to RGB, still as stored, with what turns it upright.
#[derive(Debug)]
pub struct Upright {
    /// The stored pixels, as RGB.
    pub image: RgbImage,
    /// Clockwise degrees that turn `image` upright: 0, 90, 180 or 270.
    pub rotation_degrees: u32,
    /// Mirror after rotating.
    pub mirror: bool,
    /// The region of the upright image to use, `(left, top, width, height)` in its pixels.
    pub region: Option<(f64, f64, f64, f64)>,
}

impl Upright {
    /// An image that is upright as it is.
    pub fn plain(image: RgbImage) -> Upright {
        Upright {
            image,
            rotation_degrees: 0,
            mirror: false,
            region: None,
        }
    }

    /// `(width, height)` of the upright image.
    pub fn size(&self) -> (u32, u32) {
        let (w, h) = self.image.dimensions();
        turned_size(w, h, self.rotation_degrees)
    }
}

/// `(width, height)` of a `width × height` picture turned clockwise by `rotation_degrees`:
/// swapped for 90° and 270°.
fn turned_size(width: u32, height: u32, rotation_degrees: u32) -> (u32, u32) {
    if rotation_degrees % 180 == 90 {
        (height, width)
    } else {
        (width, height)
    }
}

impl<'a> Frame<'a> {
    /// A frame of `planes` laid out as `layout`.
    pub fn new(planes: Vec<&'a [u8]>, layout: FrameLayout) -> Frame<'a> {
        Frame { planes, layout }
    }

    /// Checks the layout against the bytes, converts the stored pixels to RGB, and keeps the
    /// rotation, mirror and region for the resampling.
    ///
    /// # Errors
    /// [`Error::ImageDecode`] for a 0-pixel frame; [`Error::LimitExceeded`] over `max_pixels`;
    /// [`Error::InvalidArgument`] for a wrong plane count, a stride too small for the width, a
    /// plane shorter than its strides say, a rotation other than 0/90/180/270, or a region
    /// outside the upright frame. Each message names the plane and the bytes expected.
    pub fn to_upright(&self, max_pixels: u64) -> Result<Upright> {
        let l = &self.layout;
        check_dimensions(l.width, l.height, max_pixels)?;
        if !matches!(l.rotation_degrees, 0 | 90 | 180 | 270) {
            return Err(Error::InvalidArgument(format!(
                "rotation_degrees must be 0, 90, 180 or 270 (the clockwise turn that makes the \
                 frame upright, as Android's getRotationDegrees() says), got {}",
                l.rotation_degrees
            )));
        }
        let layouts = self.checked_planes()?;
        let image = self.to_rgb(&layouts)?;
        let region = l.region.map(|r| self.checked_region(r)).transpose()?;
        Ok(Upright {
            image,
            rotation_degrees: l.rotation_degrees,
            mirror: l.mirror,
            region,
        })
    }

    /// The plane layouts, each checked against its bytes.
    fn checked_planes(&self) -> Result<Vec<PlaneLayout>> {
        let l = &self.layout;
        let name = l.format.name().to_ascii_uppercase();
        let want = l.format.plane_count();
        if self.planes.len() != want {
            return Err(Error::InvalidArgument(format!(
                "an {name} frame has {want} plane(s), got {}: pass the planes in order ({})",
                self.planes.len(),
                match l.format {
                    PixelFormat::Nv12 => "Y, then interleaved UV",
                    PixelFormat::Nv21 => "Y, then interleaved VU",
                    PixelFormat::I420 => "Y, U, V",
                    _ => "one packed plane",
                }
            )));
        }
        let layouts = l.plane_layouts();
        if layouts.len() != want {
            return Err(Error::InvalidArgument(format!(
                "an {name} frame has {want} plane(s), the layout describes {}: give one \
                 PlaneLayout per plane, or none for tightly packed planes",
                layouts.len()
            )));
        }
        for (p, (layout, bytes)) in layouts.iter().zip(&self.planes).enumerate() {
            let (w, h) = l.format.plane_size(p, l.width, l.height);
            let packed = l.format.packed_pixel_stride(p);
            // I420 chroma may be interleaved (YUV_420_888 with pixel stride 2); every other
            // plane has one fixed sample size.
            let pixel_ok = if l.format == PixelFormat::I420 && p > 0 {
                layout.pixel_stride >= 1
            } else {
                layout.pixel_stride == packed
            };
            if !pixel_ok {
                return Err(Error::InvalidArgument(format!(
                    "plane {p} of an {name} frame must have pixel stride {packed}{}, got {}",
                    if l.format == PixelFormat::I420 && p > 0 {
                        " or more"
                    } else {
                        ""
                    },
                    layout.pixel_stride
                )));
            }
            let row = (u64::from(w) - 1) * u64::from(layout.pixel_stride)
                + if packed > 1 { u64::from(packed) } else { 1 };
            if u64::from(layout.row_stride) < row {
                return Err(Error::InvalidArgument(format!(
                    "plane {p} of a {}×{} {name} frame needs a row stride of at least {row} \
                     bytes, got {}: pass the stride the camera reports",
                    l.width, l.height, layout.row_stride
                )));
            }
            // The last row need not be padded (Android's planes end right after it).
            let need = u64::from(layout.row_stride) * (u64::from(h) - 1) + row;
            if (bytes.len() as u64) < need {
                return Err(Error::InvalidArgument(format!(
                    "plane {p} of a {}×{} {name} frame with row stride {} needs at least {need} \
                     bytes, got {}: check the size, format and strides",
                    l.width,
                    l.height,
                    layout.row_stride,
                    bytes.len()
                )));
            }
        }
        Ok(layouts)
    }

    /// The region as `(left, top, width, height)` inside the upright frame.
    fn checked_region(&self, r: BoundingBox) -> Result<(f64, f64, f64, f64)> {
        let (w, h) = self.layout.upright_size();
        let (x, y, rw, rh) = (
            f64::from(r.x),
            f64::from(r.y),
            f64::from(r.width),
            f64::from(r.height),
        );
        let inside = x >= 0.0
            && y >= 0.0
            && rw >= 1.0
            && rh >= 1.0
            && x + rw <= f64::from(w) + 1e-3
            && y + rh <= f64::from(h) + 1e-3;
        if !inside {
            return Err(Error::InvalidArgument(format!(
                "the region (x {x}, y {y}, {rw}×{rh}) must be at least 1×1 and lie inside the \
                 upright {w}×{h} frame (after rotation by {}°): clip it to the frame",
                self.layout.rotation_degrees
            )));
        }
        Ok((x, y, rw.min(f64::from(w) - x), rh.min(f64::from(h) - y)))
    }

    /// The stored pixels as RGB.
    fn to_rgb(&self, layouts: &[PlaneLayout]) -> Result<RgbImage> {
        let l = &self.layout;
        let (w, h) = (l.width, l.height);
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        let range = match l.color_range {
            ColorRange::Full => YuvRange::Full,
            ColorRange::Video => YuvRange::Limited,
        };
        let matrix = match l.color_matrix {
            ColorMatrix::Bt601 => YuvStandardMatrix::Bt601,
            ColorMatrix::Bt709 => YuvStandardMatrix::Bt709,
        };
        let fail = |e: yuvutils_rs::YuvError| {
            Error::Preprocess(format!("YUV to RGB conversion failed: {e}"))
        };
        match l.format {
            PixelFormat::Rgba | PixelFormat::Bgra | PixelFormat::Rgb => {
                let order: [usize; 3] = if l.format == PixelFormat::Bgra {
                    [2, 1, 0]
                } else {
                    [0, 1, 2]
                };
                let step = layouts[0].pixel_stride as usize;
                let stride = layouts[0].row_stride as usize;
                for (y, out) in rgb.chunks_exact_mut(w as usize * 3).enumerate() {
                    let row = &self.planes[0][y * stride..];
                    for (px, dst) in row.chunks(step).zip(out.chunks_exact_mut(3)) {
                        dst.copy_from_slice(&[px[order[0]], px[order[1]], px[order[2]]]);
                    }
                }
            }
            PixelFormat::Nv12 | PixelFormat::Nv21 | PixelFormat::I420 => {
                // One conversion for every YUV layout: chroma that is interleaved (NV12/NV21, or
                // YUV_420_888 with pixel stride 2) or padded is gathered into tight planes first —
                // a quarter of the frame's samples each. yuvutils-rs 0.8.3 refuses padded UV rows
                // in its NV12 entry points, and mis-reads the last chroma row of a padded I420
                // plane when the height is odd (frames.json's conversion vectors caught it).
                let (cw, ch) = l.format.plane_size(1, w, h);
                let chroma = |plane: usize, first: usize| -> (std::borrow::Cow<'_, [u8]>, u32) {
                    let PlaneLayout {
                        row_stride,
                        pixel_stride,
                    } = layouts[plane];
                    let bytes = &self.planes[plane][first..];
                    if pixel_stride == 1 && row_stride == cw {
                        return (bytes.into(), row_stride);
                    }
                    let mut tight = Vec::with_capacity(cw as usize * ch as usize);
                    for y in 0..ch as usize {
                        let row = &bytes[y * row_stride as usize..];
                        tight.extend(row.iter().step_by(pixel_stride as usize).take(cw as usize));
                    }
                    (tight.into(), cw)
                };
                let ((u, u_stride), (v, v_stride)) = match l.format {
                    PixelFormat::Nv12 => (chroma(1, 0), chroma(1, 1)),
                    PixelFormat::Nv21 => (chroma(1, 1), chroma(1, 0)),
                    _ => (chroma(1, 0), chroma(2, 0)),
                };
                let image = YuvPlanarImage {
                    y_plane: self.planes[0],
                    y_stride: layouts[0].row_stride,
                    u_plane: &u,
                    u_stride,
                    v_plane: &v,
                    v_stride,
                    width: w,
                    height: h,
                };
                yuv420_to_rgb(&image, &mut rgb, w * 3, range, matrix).map_err(fail)?;
            }
        }
        RgbImage::from_raw(w, h, rgb)
            .ok_or_else(|| Error::Preprocess("RGB buffer does not fit its size".into()))
    }
}

/// Maps a rectangle `(left, top, width, height)` of the upright image (`uw × uh` pixels, after
/// rotating the stored image by `rotation` degrees clockwise and then mirroring it when `mirror`)
/// back to the stored image.
pub(crate) fn to_stored_rect(
    rotation: u32,
    mirror: bool,
    (uw, uh): (f64, f64),
    (left, top, w, h): (f64, f64, f64, f64),
) -> (f64, f64, f64, f64) {
    let left = if mirror { uw - left - w } else { left };
    match rotation {
        90 => (top, uw - left - w, h, w),
        180 => (uw - left - w, uh - top - h, w, h),
        270 => (uh - top - h, left, h, w),
        _ => (left, top, w, h),
    }
}

/// Where upright pixel `(x, y)` of a `rw × rh` upright image is in the stored image (`rh × rw`
/// for 90° and 270°): the index map the resampler writes with.
pub(crate) fn stored_pixel(
    rotation: u32,
    mirror: bool,
    (rw, rh): (usize, usize),
    (x, y): (usize, usize),
) -> (usize, usize) {
    let x = if mirror { rw - 1 - x } else { x };
    match rotation {
        90 => (y, rw - 1 - x),
        180 => (rw - 1 - x, rh - 1 - y),
        270 => (rh - 1 - y, x),
        _ => (x, y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 stored image whose pixels are numbered, turned every way.
    #[test]
    fn stored_pixel_and_rect_agree_with_turning_the_image() {
        // Stored (x, y) → value 10·y + x, 3 wide, 2 high.
        let stored = |x: usize, y: usize| 10 * y + x;
        // Upright images written out by hand: rotate clockwise, then mirror.
        let cases: [(u32, bool, Vec<Vec<usize>>); 5] = [
            (0, false, vec![vec![0, 1, 2], vec![10, 11, 12]]),
            (90, false, vec![vec![10, 0], vec![11, 1], vec![12, 2]]),
            (180, false, vec![vec![12, 11, 10], vec![2, 1, 0]]),
            (270, false, vec![vec![2, 12], vec![1, 11], vec![0, 10]]),
            (90, true, vec![vec![0, 10], vec![1, 11], vec![2, 12]]),
        ];
        for (rotation, mirror, upright) in cases {
            let (rw, rh) = (upright[0].len(), upright.len());
            for (y, row) in upright.iter().enumerate() {
                for (x, want) in row.iter().enumerate() {
                    let (sx, sy) = stored_pixel(rotation, mirror, (rw, rh), (x, y));
                    assert_eq!(stored(sx, sy), *want, "{rotation}° {mirror} at ({x}, {y})");
                    // The 1×1 rectangle at (x, y) maps to the 1×1 rectangle at (sx, sy).
                    let r = to_stored_rect(
                        rotation,
                        mirror,
                        (rw as f64, rh as f64),
                        (x as f64, y as f64, 1.0, 1.0),
                    );
                    assert_eq!(r, (sx as f64, sy as f64, 1.0, 1.0), "{rotation}° {mirror}");
                }
            }
        }
    }

    /// Every channel of every pixel within 1 of `value`.
    fn near(img: &RgbImage, value: u8) -> bool {
        img.as_raw().iter().all(|v| v.abs_diff(value) <= 1)
    }

    fn nv12_grey(w: u32, h: u32, y: u8) -> Vec<u8> {
        let mut v = vec![y; (w * h) as usize];
        v.resize(v.len() + (w.div_ceil(2) * h.div_ceil(2) * 2) as usize, 128);
        v
    }

    #[test]
    fn yuv_grey_is_grey_and_video_range_expands() {
        let bytes = nv12_grey(5, 3, 235);
        let (y, uv) = bytes.split_at(15);
        let frame = |range| {
            let mut layout = FrameLayout::packed(PixelFormat::Nv12, 5, 3);
            layout.color_range = range;
            Frame::new(vec![y, uv], layout)
                .to_upright(1 << 20)
                .unwrap()
                .image
        };
        // yuvutils-rs computes in 13-bit fixed point: within 1 of the exact value.
        assert!(near(&frame(ColorRange::Full), 235));
        assert!(near(&frame(ColorRange::Video), 255));
    }

    #[test]
    fn strided_planes_and_short_last_rows_are_read_in_place() {
        // I420 with interleaved chroma (pixel stride 2), rows padded to 8, last rows unpadded.
        let (w, h) = (5u32, 3u32);
        let y: Vec<u8> = (0..8 * 2 + 5)
            .map(|i| if i % 8 < 5 { 200 } else { 0 })
            .collect();
        let uv: Vec<u8> = vec![128; 8 + 6];
        let mut layout = FrameLayout::packed(PixelFormat::I420, w, h);
        layout.planes = vec![
            PlaneLayout {
                row_stride: 8,
                pixel_stride: 1,
            },
            PlaneLayout {
                row_stride: 8,
                pixel_stride: 2,
            },
            PlaneLayout {
                row_stride: 8,
                pixel_stride: 2,
            },
        ];
        let up = Frame::new(vec![&y, &uv, &uv[1..]], layout.clone())
            .to_upright(100)
            .unwrap();
        assert!(near(&up.image, 200));
        // One byte short of the V plane: a clear error, nothing read out of bounds.
        let e = Frame::new(vec![&y, &uv, &uv[2..]], layout)
            .to_upright(100)
            .unwrap_err();
        assert_eq!(e.kind(), "InvalidArgument");
        assert!(e.to_string().contains("plane 2"), "{e}");
    }

    #[test]
    fn bad_layouts_are_refused_with_what_was_expected() {
        let px = vec![0u8; 4 * 4 * 4];
        let ok = FrameLayout::packed(PixelFormat::Rgba, 4, 4);
        let refuse = |layout: FrameLayout, planes: Vec<&[u8]>, needle: &str| {
            let e = Frame::new(planes, layout).to_upright(1000).unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
        };
        refuse(ok.clone().rotated(45), vec![&px], "0, 90, 180 or 270");
        refuse(ok.clone(), vec![&px, &px], "has 1 plane(s), got 2");
        refuse(
            FrameLayout::packed(PixelFormat::Rgba, 5, 4),
            vec![&px],
            "needs at least 80 bytes, got 64",
        );
        let mut narrow = ok.clone();
        narrow.planes = vec![PlaneLayout {
            row_stride: 12,
            pixel_stride: 4,
        }];
        refuse(narrow, vec![&px], "row stride of at least 16");
        let mut outside = ok.rotated(90);
        outside.region = Some(BoundingBox {
            x: 2.0,
            y: 0.0,
            width: 3.0,
            height: 4.0,
        });
        refuse(outside, vec![&px], "inside the upright 4×4 frame");
        assert_eq!(
            "YUV_420_888".parse::<PixelFormat>().unwrap(),
            PixelFormat::I420
        );
        assert!("yuyv".parse::<PixelFormat>().is_err());
    }
}
