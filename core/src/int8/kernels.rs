//! Integer convolution kernels: u8 activations × i8 weights, i32 accumulation, requantized to u8.
//!
//! Every kernel has a portable version, compiled for every target; x86_64 adds versions chosen
//! at run time by CPU feature (AVX-512 VNNI for the matrix product, AVX2 / AVX-512 code
//! generation for the rest). Integer accumulation makes every version give the same bits as
//! the portable one; requantization is one f32 multiply rounded half-to-even, as onnxruntime's.

/// Per output channel: `y = clamp(round_half_even((acc + bias) · scale) + zero, 0, 255)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Requant {
    /// Bias in accumulator units, with the input zero point's contribution folded in.
    pub bias: Vec<i32>,
    /// `x_scale · w_scale / y_scale`.
    pub scale: Vec<f32>,
    pub zero: u8,
}

#[inline(always)]
#[allow(clippy::manual_clamp)] // max/min replace a NaN; clamp would keep it
fn requant(acc: i32, scale: f32, zero: i32) -> u8 {
    // max/min (not clamp) also replace a NaN, so the value is finite and in range below.
    let r = (acc as f32 * scale)
        .round_ties_even()
        .max(-1024.0)
        .min(1024.0);
    // SAFETY: r is a finite integer within ±1024.
    let r: i32 = unsafe { r.to_int_unchecked() };
    (r + zero).clamp(0, 255) as u8
}

/// `out[i] = clamp(round_half_even(x[i] · scale_recip) + zero, 0, 255)`.
pub(crate) fn quantize(x: &[f32], scale_recip: f32, zero: u8, out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { x86::quantize_avx512(x, scale_recip, zero, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            unsafe { x86::quantize_avx2(x, scale_recip, zero, out) };
            return;
        }
    }
    quantize_portable(x, scale_recip, zero, out);
}

#[inline(always)]
#[allow(clippy::manual_clamp)] // max/min replace a NaN; clamp would keep it
fn quantize_portable(x: &[f32], scale_recip: f32, zero: u8, out: &mut [u8]) {
    let zero = i32::from(zero);
    for (o, &v) in out.iter_mut().zip(x) {
        // max/min also replace a NaN (which becomes 0).
        let r = (v * scale_recip).round_ties_even().max(-1024.0).min(1024.0);
        // SAFETY: r is a finite integer within ±1024.
        let r: i32 = unsafe { r.to_int_unchecked() };
        *o = (r + zero).clamp(0, 255) as u8;
    }
}

/// Weights of a matrix product `out[co][p] = Σ_k w[co][k] · x[k][p]`, in two layouts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GemmWeights {
    pub cout: usize,
    pub k: usize,
    /// `[cout][k]`.
    pub plain: Vec<i8>,
    /// `[cout][k/4 rounded up]`, four consecutive k as the bytes of one i32 (zero-padded).
    pub k4: Vec<i32>,
}

impl GemmWeights {
    pub fn new(cout: usize, k: usize, plain: Vec<i8>) -> Self {
        let k4n = k.div_ceil(4);
        let mut k4 = vec![0i32; cout * k4n];
        for co in 0..cout {
            for q in 0..k4n {
                let mut b = [0u8; 4];
                for (j, byte) in b.iter_mut().enumerate() {
                    if let Some(&w) = plain.get(co * k + q * 4 + j).filter(|_| q * 4 + j < k) {
                        *byte = w as u8;
                    }
                }
                k4[co * k4n + q] = i32::from_le_bytes(b);
            }
        }
        GemmWeights { cout, k, plain, k4 }
    }

    /// Σ_k w[co][k], for folding the input zero point into the bias.
    pub fn row_sums(&self) -> Vec<i32> {
        self.plain
            .chunks(self.k.max(1))
            .map(|r| r.iter().map(|&w| i32::from(w)).sum())
            .collect()
    }
}

/// The instruction set of the fast int8 matrix product on this CPU, if there is one. Without
/// it the portable product (5–9 GMAC/s on x86_64) is slower than tract's float kernels
/// (~40 GFLOP/s), so the int8 pass leaves 1×1 and regular convolutions in float there.
pub fn fast_gemm() -> Option<&'static str> {
    #[cfg(target_arch = "x86_64")]
    if x86::has_vnni() {
        return Some("AVX-512 VNNI");
    }
    None
}

/// `out[co][p]` (u8, `[cout][p]`) from `x` (u8, `[k][p]`).
pub(crate) fn gemm(w: &GemmWeights, x: &[u8], p: usize, rq: &Requant, out: &mut [u8]) {
    debug_assert_eq!(x.len(), w.k * p);
    debug_assert_eq!(out.len(), w.cout * p);
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_vnni() {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { x86::gemm_vnni(w, x, p, rq, out) };
            return;
        }
    }
    gemm_portable(w, x, p, rq, out);
}

/// Output channels and pixels of one register tile of the portable matrix product.
const PR: usize = 4;
const PL: usize = 16;

/// The portable matrix product: tiles of 4 channels × 16 pixels accumulated in registers.
/// Products are formed in i16 (|w · x| ≤ 128 · 255 < 2^15) and widened to i32, the shape NEON
/// (`smlal`) and wasm SIMD (`i16x8.mul` + `i32x4.extend`) vectorize.
#[inline(always)]
fn gemm_portable(w: &GemmWeights, x: &[u8], p: usize, rq: &Requant, out: &mut [u8]) {
    let k = w.k;
    let zero = i32::from(rq.zero);
    for co0 in (0..w.cout).step_by(PR) {
        let rows = PR.min(w.cout - co0);
        for p0 in (0..p).step_by(PL) {
            let n = PL.min(p - p0);
            let mut acc = [[0i32; PL]; PR];
            for kk in 0..k {
                let mut xs = [0i16; PL];
                for (d, &v) in xs.iter_mut().zip(&x[kk * p + p0..kk * p + p0 + n]) {
                    *d = i16::from(v);
                }
                for (r, acc) in acc.iter_mut().enumerate().take(rows) {
                    let wv = i16::from(w.plain[(co0 + r) * k + kk]);
                    for (a, &v) in acc.iter_mut().zip(&xs) {
                        *a += i32::from(wv * v);
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate().take(rows) {
                let co = co0 + r;
                let dst = &mut out[co * p + p0..co * p + p0 + n];
                for (o, &a) in dst.iter_mut().zip(acc) {
                    *o = requant(a + rq.bias[co], rq.scale[co], zero);
                }
            }
        }
    }
}

/// Geometry of one image plane's convolution window.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Window {
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: (usize, usize),
    /// Top, left, bottom, right.
    pub pad: [usize; 4],
}

impl Window {
    pub fn out_h(&self) -> usize {
        (self.h + self.pad[0] + self.pad[2] - self.kh) / self.stride.0 + 1
    }
    pub fn out_w(&self) -> usize {
        (self.w + self.pad[1] + self.pad[3] - self.kw) / self.stride.1 + 1
    }
}

/// The im2col matrix `[c·kh·kw][out_h·out_w]` of `x` (`[c][h][w]`), padding with `zero`.
pub(crate) fn im2col(x: &[u8], c: usize, win: &Window, zero: u8, col: &mut Vec<u8>) {
    let (oh, ow) = (win.out_h(), win.out_w());
    col.clear();
    col.resize(c * win.kh * win.kw * oh * ow, zero);
    let mut row = 0;
    for ci in 0..c {
        let plane = &x[ci * win.h * win.w..(ci + 1) * win.h * win.w];
        for ky in 0..win.kh {
            for kx in 0..win.kw {
                let dst = &mut col[row * oh * ow..(row + 1) * oh * ow];
                // The outputs whose input column is inside the image: no test in the loop.
                let (sy, sx) = win.stride;
                let ox_lo = win.pad[1].saturating_sub(kx).div_ceil(sx);
                let ox_hi = ((win.w + win.pad[1]).saturating_sub(kx))
                    .div_ceil(sx)
                    .min(ow);
                for oy in 0..oh {
                    let Some(iy) = (oy * sy + ky).checked_sub(win.pad[0]) else {
                        continue;
                    };
                    if iy >= win.h || ox_lo >= ox_hi {
                        continue;
                    }
                    let src = &plane[iy * win.w..(iy + 1) * win.w];
                    let first = ox_lo * sx + kx - win.pad[1];
                    let out = &mut dst[oy * ow + ox_lo..oy * ow + ox_hi];
                    for (o, &v) in out.iter_mut().zip(src[first..].iter().step_by(sx)) {
                        *o = v;
                    }
                }
                row += 1;
            }
        }
    }
}

/// What a depthwise kernel reads and writes around its f32 accumulation.
pub(crate) trait DwEnds {
    type In: Copy;
    type Out: Copy + Default;
    /// What `store` needs of one channel, looked up once per channel.
    type Channel: Copy;
    /// An input value as f32 (padding is 0.0).
    fn load(&self, v: Self::In) -> f32;
    fn channel(&self, ch: usize) -> Self::Channel;
    /// The output from an accumulated sum.
    fn store(ch: Self::Channel, acc: f32) -> Self::Out;
}

/// Quantized ends: u8 in (minus the zero point), requantized u8 out.
pub(crate) struct QuantEnds<'a> {
    pub x_zero: u8,
    pub rq: &'a Requant,
}

impl DwEnds for QuantEnds<'_> {
    type In = u8;
    type Out = u8;
    /// Bias, scale, output zero point.
    type Channel = (i32, f32, i32);
    #[inline(always)]
    fn load(&self, v: u8) -> f32 {
        f32::from(i16::from(v) - i16::from(self.x_zero))
    }
    #[inline(always)]
    fn channel(&self, ch: usize) -> (i32, f32, i32) {
        (self.rq.bias[ch], self.rq.scale[ch], i32::from(self.rq.zero))
    }
    #[inline(always)]
    fn store((bias, scale, zero): (i32, f32, i32), acc: f32) -> u8 {
        // SAFETY: acc is an exact integer below 2^24 in magnitude (DW_MAX_TAPS).
        let acc: i32 = unsafe { acc.to_int_unchecked() };
        requant(acc + bias, scale, zero)
    }
}

/// Float ends: f32 in, f32 plus bias out.
pub(crate) struct FloatEnds<'a> {
    pub bias: &'a [f32],
}

impl DwEnds for FloatEnds<'_> {
    type In = f32;
    type Out = f32;
    type Channel = f32;
    #[inline(always)]
    fn load(&self, v: f32) -> f32 {
        v
    }
    #[inline(always)]
    fn channel(&self, ch: usize) -> f32 {
        self.bias[ch]
    }
    #[inline(always)]
    fn store(bias: f32, acc: f32) -> f32 {
        acc + bias
    }
}

/// Depthwise convolution of `x` (`[c][h][w]`) with `w` (`[c][kh][kw]`, as f32) into `out`
/// (`[c][out_h][out_w]`); `ends` converts the input and the output.
pub(crate) fn depthwise<E: DwEnds>(
    x: &[E::In],
    c: usize,
    win: &Window,
    w: &[f32],
    ends: &E,
    out: &mut [E::Out],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { x86::depthwise_avx512(x, c, win, w, ends, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: as above.
            unsafe { x86::depthwise_avx2(x, c, win, w, ends, out) };
            return;
        }
    }
    // aarch64 always has a fused multiply-add; elsewhere without one `mul_add` is a libm call.
    depthwise_portable::<{ cfg!(target_arch = "aarch64") }, E>(x, c, win, w, ends, out);
}

/// Largest `kh · kw` the depthwise kernel takes: it accumulates the integer products in f32,
/// which is exact while every partial sum stays below 2^24 (255 · 128 · 256 < 2^24).
pub(crate) const DW_MAX_TAPS: usize = 256;

/// Accumulator block, in f32 elements: sized to stay in L1 with its source rows.
const DW_BLOCK: usize = 2048;
/// Outputs accumulated in registers across all taps: four 512-bit registers, and one for the
/// end of a block (small planes: a 7×7 layer's block is 77 outputs).
const DW_CHUNK: usize = 64;
const DW_TAIL: usize = 16;

/// `out[i] = Σ_taps kernel[t] · phases[start + offsets[t] + i]` for `N` outputs held in registers.
#[inline(always)]
fn taps_into<const FMA: bool, const N: usize>(
    out: &mut [f32],
    phases: &[f32],
    start: usize,
    offsets: &[usize],
    kernel: &[f32],
) {
    let mut sum = [0f32; N];
    for (&at, &wv) in offsets.iter().zip(kernel) {
        let Ok(src) = <&[f32; N]>::try_from(&phases[start + at..][..N]) else {
            continue;
        };
        for (a, &v) in sum.iter_mut().zip(src) {
            *a = if FMA { wv.mul_add(v, *a) } else { *a + wv * v };
        }
    }
    out.copy_from_slice(&sum);
}

/// The depthwise kernel accumulates in f32: exact for quantized inputs (see [`DW_MAX_TAPS`]),
/// so the result converted back to i32 equals the integer definition bit for bit, and fast on
/// every SIMD instruction set.
///
/// The padded input is split into row phases (phase `ry` holds padded rows `ry, ry + sy, ...`),
/// and every column is computed as if the horizontal stride were 1; then for each tap the block
/// of output rows, laid out with the padded row pitch, reads one contiguous run: each tap is a
/// single long multiply-add, whatever the stride and the plane size. A horizontal stride of 2
/// doubles the multiply-adds but avoids de-interleaving columns, which cost more (measured:
/// 2.5 → ~7 GMAC/s on EfficientNet's stride-2 layers).
///
/// `FMA`: use fused multiply-adds (only where the target has them in hardware).
#[inline(always)]
fn depthwise_portable<const FMA: bool, E: DwEnds>(
    x: &[E::In],
    c: usize,
    win: &Window,
    w: &[f32],
    ends: &E,
    out: &mut [E::Out],
) {
    let (oh, ow) = (win.out_h(), win.out_w());
    let (sy, sx) = win.stride;
    let wp = win.w + win.pad[1] + win.pad[3];
    let plane = (win.h + win.pad[0] + win.pad[2]).div_ceil(sy) * wp;
    let mut phases = vec![0f32; sy * plane + wp + win.kw + DW_CHUNK];
    let rows = (DW_BLOCK / wp).clamp(1, oh);
    let mut acc = vec![0f32; (rows * wp).next_multiple_of(DW_CHUNK)];
    let mut stored = vec![E::Out::default(); acc.len()];
    let taps = win.kh * win.kw;
    // Each tap's offset into the phases, from the first output of a block.
    let offsets: Vec<usize> = (0..taps)
        .map(|t| {
            let (ky, kx) = (t / win.kw, t % win.kw);
            (ky % sy) * plane + (ky / sy) * wp + kx
        })
        .collect();
    for ch in 0..c {
        let input = &x[ch * win.h * win.w..(ch + 1) * win.h * win.w];
        for (iy, src) in input.chunks_exact(win.w).enumerate() {
            let y = iy + win.pad[0];
            let at = (y % sy) * plane + (y / sy) * wp + win.pad[1];
            for (d, &v) in phases[at..at + win.w].iter_mut().zip(src) {
                *d = ends.load(v);
            }
        }
        let kernel = &w[ch * taps..(ch + 1) * taps];
        let dst = &mut out[ch * oh * ow..(ch + 1) * oh * ow];
        let channel = ends.channel(ch);
        for oy0 in (0..oh).step_by(rows) {
            let n = (rows.min(oh - oy0) * wp).next_multiple_of(DW_TAIL);
            let (wide, tail) = acc[..n].split_at_mut(n / DW_CHUNK * DW_CHUNK);
            let start = oy0 * wp;
            for (i, chunk) in wide.chunks_exact_mut(DW_CHUNK).enumerate() {
                taps_into::<FMA, DW_CHUNK>(chunk, &phases, start + i * DW_CHUNK, &offsets, kernel);
            }
            for (i, chunk) in tail.chunks_exact_mut(DW_TAIL).enumerate() {
                let at = start + wide.len() + i * DW_TAIL;
                taps_into::<FMA, DW_TAIL>(chunk, &phases, at, &offsets, kernel);
            }
            // Convert the whole block in one pass (long vectors), then keep each row's
            // outputs: every sx-th of its first (ow − 1)·sx + 1 columns.
            for (o, &a) in stored[..n].iter_mut().zip(&acc[..n]) {
                *o = E::store(channel, a);
            }
            let rows_out = dst[oy0 * ow..].chunks_exact_mut(ow).take(rows);
            for (src, dst) in stored[..n].chunks_exact(wp).zip(rows_out) {
                if sx == 1 {
                    dst.copy_from_slice(&src[..ow]);
                } else {
                    for (o, &v) in dst.iter_mut().zip(src.iter().step_by(sx)) {
                        *o = v;
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    pub(super) fn has_vnni() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn depthwise_avx2<E: DwEnds>(
        x: &[E::In],
        c: usize,
        win: &Window,
        w: &[f32],
        ends: &E,
        out: &mut [E::Out],
    ) {
        depthwise_portable::<true, E>(x, c, win, w, ends, out)
    }

    #[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
    pub(super) unsafe fn depthwise_avx512<E: DwEnds>(
        x: &[E::In],
        c: usize,
        win: &Window,
        w: &[f32],
        ends: &E,
        out: &mut [E::Out],
    ) {
        depthwise_portable::<true, E>(x, c, win, w, ends, out)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn quantize_avx2(x: &[f32], scale_recip: f32, zero: u8, out: &mut [u8]) {
        quantize_portable(x, scale_recip, zero, out)
    }

    #[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
    pub(super) unsafe fn quantize_avx512(x: &[f32], scale_recip: f32, zero: u8, out: &mut [u8]) {
        quantize_portable(x, scale_recip, zero, out)
    }

    /// Output channels per register tile.
    const MR: usize = 8;
    /// Pixels per register tile: two vectors of 16 i32.
    const NR: usize = 32;

    /// The matrix product with `vpdpbusd` (u8 × i8 → i32, four k at a time).
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn gemm_vnni(
        w: &GemmWeights,
        x: &[u8],
        p: usize,
        rq: &Requant,
        out: &mut [u8],
    ) {
        let k4n = w.k.div_ceil(4);
        // x as [k/4][p][4]: the four bytes vpdpbusd multiplies with one weight word.
        // x as [k/4][p] words of four k: the bytes vpdpbusd multiplies with one weight word.
        // Built word by word (zero-extend, shift, or), which the compiler vectorizes; a byte
        // scatter cost as much as the product itself on the wide layers.
        let mut xp = vec![0u32; k4n * p];
        let zeros = vec![0u8; p];
        let row = |k: usize| x.get(k * p..(k + 1) * p).unwrap_or(&zeros);
        for (q, dst) in xp.chunks_exact_mut(p).enumerate() {
            let (r0, r1, r2, r3) = (row(4 * q), row(4 * q + 1), row(4 * q + 2), row(4 * q + 3));
            for (i, d) in dst.iter_mut().enumerate() {
                *d = u32::from_le_bytes([r0[i], r1[i], r2[i], r3[i]]);
            }
        }
        let full = w.cout / MR * MR;
        for p0 in (0..p).step_by(NR) {
            let n = (p - p0).min(NR);
            let m0: __mmask16 = if n >= 16 { 0xffff } else { (1u16 << n) - 1 };
            let m1: __mmask16 = if n >= 32 {
                0xffff
            } else if n > 16 {
                (1u16 << (n - 16)) - 1
            } else {
                0
            };
            for co0 in (0..full).step_by(MR) {
                // SAFETY: the masks keep every access inside xp and out.
                unsafe { tile::<MR>(w, &xp, k4n, p, p0, co0, m0, m1, rq, out) };
            }
            for co0 in full..w.cout {
                // SAFETY: as above.
                unsafe { tile::<1>(w, &xp, k4n, p, p0, co0, m0, m1, rq, out) };
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn tile<const R: usize>(
        w: &GemmWeights,
        xp: &[u32],
        k4n: usize,
        p: usize,
        p0: usize,
        co0: usize,
        m0: __mmask16,
        m1: __mmask16,
        rq: &Requant,
        out: &mut [u8],
    ) {
        unsafe {
            let mut acc = [[_mm512_setzero_si512(); 2]; R];
            let xbase = xp.as_ptr().add(p0);
            for q in 0..k4n {
                let row = xbase.add(q * p);
                let x0 = _mm512_maskz_loadu_epi32(m0, row as *const i32);
                let x1 = _mm512_maskz_loadu_epi32(m1, row.add(16) as *const i32);
                for (r, a) in acc.iter_mut().enumerate() {
                    let b = _mm512_set1_epi32(*w.k4.get_unchecked((co0 + r) * k4n + q));
                    a[0] = _mm512_dpbusd_epi32(a[0], x0, b);
                    a[1] = _mm512_dpbusd_epi32(a[1], x1, b);
                }
            }
            let zero = _mm512_set1_epi32(i32::from(rq.zero));
            let (lo, hi) = (_mm512_set1_ps(-1024.0), _mm512_set1_ps(1024.0));
            for (r, a) in acc.iter().enumerate() {
                let co = co0 + r;
                let bias = _mm512_set1_epi32(rq.bias[co]);
                let scale = _mm512_set1_ps(rq.scale[co]);
                let dst = out.as_mut_ptr().add(co * p + p0);
                for (half, mask) in [(0usize, m0), (1, m1)] {
                    if mask == 0 {
                        continue;
                    }
                    let v = _mm512_cvtepi32_ps(_mm512_add_epi32(a[half], bias));
                    // Round half to even (the default MXCSR mode), like the portable kernel.
                    let v = _mm512_mul_ps(v, scale);
                    let v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
                    let v = _mm512_cvtps_epi32(v);
                    let v = _mm512_max_epi32(_mm512_add_epi32(v, zero), _mm512_setzero_si512());
                    _mm_mask_storeu_epi8(
                        dst.add(half * 16) as *mut i8,
                        mask,
                        _mm512_cvtusepi32_epi8(v),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(h: usize, w: usize, k: usize, s: usize, pad: [usize; 4]) -> Window {
        Window {
            h,
            w,
            kh: k,
            kw: k,
            stride: (s, s),
            pad,
        }
    }

    /// The plane index (`y · w + x`) output `(oy, ox)` reads at tap `(ky, kx)`; `None` in the
    /// padding.
    fn source(win: &Window, (oy, ox): (usize, usize), (ky, kx): (usize, usize)) -> Option<usize> {
        let y = (oy * win.stride.0 + ky).checked_sub(win.pad[0])?;
        let x = (ox * win.stride.1 + kx).checked_sub(win.pad[1])?;
        (y < win.h && x < win.w).then_some(y * win.w + x)
    }

    fn lcg(seed: &mut u64) -> u32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) as u32
    }

    /// Every dispatch choice gives the portable kernel's bits, on odd sizes (tails everywhere).
    #[test]
    fn gemm_versions_agree_with_the_portable_one() {
        let mut seed = 7;
        for (cout, k, p) in [
            (8, 16, 32),
            (13, 27, 49),
            (1, 1, 1),
            (24, 96, 196),
            (9, 5, 17),
        ] {
            let plain: Vec<i8> = (0..cout * k).map(|_| lcg(&mut seed) as i8).collect();
            let x: Vec<u8> = (0..k * p).map(|_| lcg(&mut seed) as u8).collect();
            let w = GemmWeights::new(cout, k, plain);
            let rq = Requant {
                bias: (0..cout).map(|i| i as i32 * 97 - 300).collect(),
                scale: (0..cout).map(|i| 0.0007 + i as f32 * 1e-5).collect(),
                zero: 3,
            };
            let mut expected = vec![0; cout * p];
            gemm_portable(&w, &x, p, &rq, &mut expected);
            let mut got = vec![0; cout * p];
            gemm(&w, &x, p, &rq, &mut got);
            assert_eq!(got, expected, "cout {cout} k {k} p {p}");
            // And the portable kernel against the definition.
            for co in 0..cout {
                for i in 0..p {
                    let acc: i32 = (0..k)
                        .map(|kk| i32::from(w.plain[co * k + kk]) * i32::from(x[kk * p + i]))
                        .sum::<i32>()
                        + rq.bias[co];
                    assert_eq!(expected[co * p + i], requant(acc, rq.scale[co], 3));
                }
            }
        }
    }

    #[test]
    fn im2col_matches_the_definition() {
        let mut seed = 5;
        for (c, h, wd, k, s, pad) in [
            (3, 9, 8, 3, 2, [0, 0, 1, 1]),
            (2, 6, 7, 3, 1, [1, 1, 1, 1]),
            (1, 5, 5, 5, 2, [2, 1, 2, 3]),
        ] {
            let win = square(h, wd, k, s, pad);
            let x: Vec<u8> = (0..c * h * wd).map(|_| lcg(&mut seed) as u8).collect();
            let mut col = vec![];
            im2col(&x, c, &win, 77, &mut col);
            let (oh, ow) = (win.out_h(), win.out_w());
            for (row, chunk) in col.chunks_exact(oh * ow).enumerate() {
                let (ci, ky, kx) = (row / (k * k), row / k % k, row % k);
                for (i, &got) in chunk.iter().enumerate() {
                    let expected = source(&win, (i / ow, i % ow), (ky, kx))
                        .map_or(77, |at| x[ci * h * wd + at]);
                    assert_eq!(got, expected, "row {row} output {i}");
                }
            }
        }
    }

    #[test]
    fn depthwise_matches_the_definition() {
        let mut seed = 11;
        for (c, h, wd, k, s, pad) in [
            (3, 7, 9, 3, 1, [1, 1, 1, 1]),
            (2, 8, 8, 3, 2, [0, 0, 1, 1]),
            (4, 11, 6, 5, 2, [2, 2, 2, 2]),
            (1, 5, 5, 5, 1, [2, 2, 2, 2]),
            (3, 7, 7, 5, 1, [2, 2, 2, 2]),
            (5, 112, 112, 3, 2, [0, 0, 1, 1]),
        ] {
            let win = square(h, wd, k, s, pad);
            let x: Vec<u8> = (0..c * h * wd).map(|_| lcg(&mut seed) as u8).collect();
            let w: Vec<i8> = (0..c * k * k).map(|_| lcg(&mut seed) as i8).collect();
            let rq = Requant {
                bias: vec![50; c],
                scale: vec![0.002; c],
                zero: 128,
            };
            let (oh, ow) = (win.out_h(), win.out_w());
            let mut got = vec![0; c * oh * ow];
            let wf: Vec<f32> = w.iter().map(|&v| f32::from(v)).collect();
            let ends = QuantEnds { x_zero: 9, rq: &rq };
            depthwise(&x, c, &win, &wf, &ends, &mut got);
            // The build without fused multiply-adds (wasm, armv7) gives the same bytes.
            let mut unfused = vec![0; c * oh * ow];
            depthwise_portable::<false, _>(&x, c, &win, &wf, &ends, &mut unfused);
            assert_eq!(unfused, got);
            // Float ends: the same sums, plus a float bias, unquantized.
            let xf: Vec<f32> = x.iter().map(|&v| f32::from(v) - 9.0).collect();
            let bias = vec![50.0; c];
            let mut float = vec![0f32; c * oh * ow];
            depthwise(&xf, c, &win, &wf, &FloatEnds { bias: &bias }, &mut float);
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 50;
                        for ky in 0..k {
                            for kx in 0..k {
                                if let Some(at) = source(&win, (oy, ox), (ky, kx)) {
                                    let v = i32::from(x[ch * h * wd + at]) - 9;
                                    acc += v * i32::from(w[ch * k * k + ky * k + kx]);
                                }
                            }
                        }
                        let at = (ch * oh + oy) * ow + ox;
                        assert_eq!(got[at], requant(acc, 0.002, 128));
                        assert_eq!(float[at], acc as f32);
                    }
                }
            }
        }
    }
}
