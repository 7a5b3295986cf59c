//! Integer convolution kernels: u8 activations × i8 weights, i32 accumulation, requantized to u8.
//!
//! Every kernel has a portable version, compiled for every target; x86_64 adds versions chosen
//! at run time by CPU feature (AVX-512 VNNI for the matrix product, AVX2 / AVX-512 code
//! generation for the rest), aarch64 a NEON matrix product (and one with the dot-product
//! extension, chosen at run time), armv7 built with NEON a NEON matrix product (`arm32.rs`),
//! and wasm32 built with `simd128` a SIMD128 matrix product. Integer accumulation makes every
//! version give the same bits as the portable one; requantization is one f32 multiply rounded half-to-even, as onnxruntime's.

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

/// A quantized residual connection, in one pass: `out[i] = quantize((a[i] − a_zero) · a_scale +
/// (b[i] − b_zero) · b_scale)`, with [`quantize`]'s rounding. Each product and the sum are
/// rounded to f32 as two `DequantizeLinear`s and an `Add` round them, so the result has the same
/// bits as those three steps and a `QuantizeLinear`.
///
/// # Panics
/// If `a`, `b` and `out` differ in length.
pub(crate) fn add_quantized(
    a: &[u8],
    (a_scale, a_zero): (f32, i32),
    b: &[u8],
    (b_scale, b_zero): (f32, i32),
    (scale_recip, zero): (f32, u8),
    out: &mut [u8],
) {
    assert!(a.len() == b.len() && a.len() == out.len());
    // The sums of one chunk stay in L1 between the two passes.
    const CHUNK: usize = 512;
    let mut sum = [0f32; CHUNK];
    for ((a, b), out) in a
        .chunks(CHUNK)
        .zip(b.chunks(CHUNK))
        .zip(out.chunks_mut(CHUNK))
    {
        let sum = &mut sum[..a.len()];
        for ((s, &a), &b) in sum.iter_mut().zip(a).zip(b) {
            *s =
                (i32::from(a) - a_zero) as f32 * a_scale + (i32::from(b) - b_zero) as f32 * b_scale;
        }
        quantize(sum, scale_recip, zero, out);
    }
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

/// An instruction set for the int8 matrix product ([`gemm`]).
///
/// [`Isa::supported`] says whether this CPU runs it; [`gemm`] panics on one it does not, so a
/// forced choice (an option, an environment variable, a test) must be checked first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Plain Rust, on every target (auto-vectorized for the target's baseline only).
    Portable,
    /// x86_64 AVX2: u8 and i8 widened to i16, pairs of k multiplied and summed exactly into
    /// i32 by `vpmaddwd`.
    Avx2,
    /// x86_64 AVX-512 VNNI: `vpdpbusd`, four u8 × i8 products summed into i32.
    Avx512Vnni,
    /// NEON (little-endian): u8 inputs widened to i16 and multiplied by an i16 weight lane into
    /// i32 accumulators, exactly: `smlal` on aarch64 (every little-endian aarch64 CPU),
    /// `vmlal.s16` on armv7. On armv7 a compile-time choice: supported when the crate is built
    /// with `-C target-feature=+neon` by a nightly compiler (scripts/build-pi.sh: Pi 2 and
    /// later), else the portable product is the only one.
    Neon,
    /// aarch64 NEON with the dot-product extension (`sdot`, four i8 × i8 products summed into
    /// i32): the inputs flipped to signed (`x − 128`), corrected by `128 · Σ_k w` in the bias.
    /// ARMv8.2+ cores with `dotprod` (Cortex-A55/A76 and later: Raspberry Pi 5, most phones).
    NeonDot,
    /// wasm32 SIMD128 (`i32x4.dot_i16x8_s` over pairs of k, as AVX2's `vpmaddwd`). Supported
    /// when the module is built with `-C target-feature=+simd128` (a compile-time choice: a
    /// WebAssembly engine rejects a module whose instructions it lacks).
    Simd128,
}

impl Isa {
    /// Every instruction set, from the most portable to the fastest of each family.
    pub fn all() -> &'static [Isa] {
        &[
            Isa::Portable,
            Isa::Avx2,
            Isa::Avx512Vnni,
            Isa::Neon,
            Isa::NeonDot,
            Isa::Simd128,
        ]
    }

    /// The name [`Isa::parse`] reads: `portable`, `avx2`, `avx512vnni`, `neon`, `neon-dot`,
    /// `simd128`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512Vnni => "avx512vnni",
            Isa::Neon => "neon",
            Isa::NeonDot => "neon-dot",
            Isa::Simd128 => "simd128",
        }
    }

    /// The instruction set named `name` (see [`Isa::name`]; ASCII case is ignored), whether or
    /// not this CPU supports it.
    pub fn parse(name: &str) -> Option<Isa> {
        Isa::all()
            .iter()
            .copied()
            .find(|isa| isa.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Output channels per register tile of the instruction set's matrix product: a block of
    /// channels that is a multiple of it runs at full speed.
    pub fn gemm_rows(self) -> usize {
        match self {
            Isa::Avx512Vnni => 8,
            _ => PAIR_ROWS.max(QUAD_ROWS),
        }
    }

    /// Whether this CPU runs the instruction set's kernels (detected at run time). Only a
    /// supported instruction set may be passed to [`gemm`].
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => x86::has_avx2(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Vnni => x86::has_vnni(),
            #[cfg(all(target_arch = "aarch64", target_endian = "little"))]
            Isa::Neon => arm::has_neon(),
            // Enabled at compile time: the binary already needs NEON to run.
            #[cfg(all(target_arch = "arm", target_endian = "little", target_feature = "neon"))]
            Isa::Neon => true,
            #[cfg(all(target_arch = "aarch64", target_endian = "little"))]
            Isa::NeonDot => arm::has_dotprod(),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Isa::Simd128 => true,
            _ => false,
        }
    }

    /// The fastest supported instruction set.
    pub fn detect() -> Isa {
        [
            Isa::Avx512Vnni,
            Isa::Avx2,
            Isa::NeonDot,
            Isa::Neon,
            Isa::Simd128,
        ]
        .into_iter()
        .find(|isa| isa.supported())
        .unwrap_or(Isa::Portable)
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether `isa`'s int8 matrix product beats tract's float kernels (~40 GFLOP/s on x86_64), so
/// that 1×1 and regular convolutions are worth running in integers with it. Measured on one
/// core of an AMD EPYC (Zen 5) over EfficientNet-Lite0's 1×1 shapes: AVX2 55–98 GMAC/s,
/// AVX-512 VNNI 97–370 GMAC/s, the portable product 3–8 GMAC/s (a float f32 sgemm of the same
/// shapes: 57–103 GMAC/s). False for the portable product and for an unsupported `isa`.
///
/// True for the ARM and wasm32 products too. `sdot` does 16 multiply-adds an instruction,
/// four times a float `fmla`. Plain NEON's `smlal` (armv7: `vmlal.s16`) does 4, like `fmla`
/// (`vmla.f32`), at a quarter of the memory traffic (inputs and weights in bytes). SIMD128's `i32x4.dot_i16x8_s` does 8, where
/// a float product has 4-lane multiplies and adds and no fused multiply-add.
pub fn int8_gemm_worthwhile(isa: Isa) -> bool {
    matches!(
        isa,
        Isa::Avx2 | Isa::Avx512Vnni | Isa::Neon | Isa::NeonDot | Isa::Simd128
    ) && isa.supported()
}

/// The instruction set of the fast int8 matrix product on this CPU, if there is one: the name
/// of [`Isa::detect`] when [`int8_gemm_worthwhile`]. Without one the portable product is slower
/// than tract's float kernels, so the int8 pass leaves 1×1 and regular convolutions in float.
pub fn fast_gemm() -> Option<&'static str> {
    let isa = Isa::detect();
    int8_gemm_worthwhile(isa).then(|| isa.name())
}

/// Output channels per register tile of the AVX2 product, the row count of
/// [`GemmWeights::pairs`] panels.
const PAIR_ROWS: usize = 4;

/// Output channels per register tile of the aarch64 dot-product kernel, the row count of
/// [`GemmWeights::quads`] panels.
const QUAD_ROWS: usize = 4;

/// Whether [`GemmWeights::new`] builds the dot-product layouts ([`GemmWeights::quads`],
/// [`GemmWeights::flip`]): only where [`Isa::NeonDot`] can run.
const DOT_LAYOUTS: bool = cfg!(all(target_arch = "aarch64", target_endian = "little"));

/// Weights of a matrix product `out[co][p] = Σ_k w[co][k] · x[k][p]`, in three layouts (five
/// on aarch64).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GemmWeights {
    pub cout: usize,
    pub k: usize,
    /// `[cout][k]`.
    pub plain: Vec<i8>,
    /// `[cout][k/4 rounded up]`, four consecutive k as the bytes of one i32 (zero-padded).
    pub k4: Vec<i32>,
    /// Panels of [`PAIR_ROWS`] output channels, `[cout/PAIR_ROWS][k/2][PAIR_ROWS]` (both
    /// rounded up, zero-padded): two consecutive k as the i16 halves of one i32 (low half
    /// first), what `vpmaddwd` multiplies with a pair of widened inputs.
    pub pairs: Vec<i32>,
    /// aarch64 only (empty elsewhere): panels of [`QUAD_ROWS`] output channels,
    /// `[cout/QUAD_ROWS][k/4][QUAD_ROWS][4]` bytes (both rounded up, zero-padded), what `sdot`
    /// multiplies by element.
    pub quads: Vec<i8>,
    /// aarch64 only (empty elsewhere): `128 · Σ_k w[co][k]` (wrapping), the correction for
    /// inputs flipped to signed (`Σ w·x = Σ w·(x − 128) + 128 · Σ w`).
    pub flip: Vec<i32>,
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
        let k2n = k.div_ceil(2);
        let mut pairs = vec![0i32; cout.div_ceil(PAIR_ROWS) * k2n * PAIR_ROWS];
        for co in 0..cout {
            let (panel, r) = (co / PAIR_ROWS, co % PAIR_ROWS);
            for q in 0..k2n {
                let half = |kk: usize| {
                    let w = plain.get(co * k + kk).filter(|_| kk < k).copied();
                    i32::from(w.unwrap_or(0) as i16 as u16)
                };
                pairs[(panel * k2n + q) * PAIR_ROWS + r] = half(2 * q) | half(2 * q + 1) << 16;
            }
        }
        let (mut quads, mut flip) = (vec![], vec![]);
        if DOT_LAYOUTS {
            quads = vec![0i8; quads_len(cout, k)];
            for (co, row) in plain.chunks_exact(k.max(1)).take(cout).enumerate() {
                let (panel, r) = (co / QUAD_ROWS, co % QUAD_ROWS);
                for (kk, &v) in row.iter().enumerate().take(k) {
                    quads[((panel * k4n + kk / 4) * QUAD_ROWS + r) * 4 + kk % 4] = v;
                }
            }
            flip = plain
                .chunks_exact(k.max(1))
                .take(cout)
                .map(|r| {
                    r.iter()
                        .map(|&w| i32::from(w))
                        .sum::<i32>()
                        .wrapping_mul(128)
                })
                .collect();
            flip.resize(cout, 0);
        }
        GemmWeights {
            cout,
            k,
            plain,
            k4,
            pairs,
            quads,
            flip,
        }
    }

    /// Σ_k w[co][k], for folding the input zero point into the bias.
    pub fn row_sums(&self) -> Vec<i32> {
        self.plain
            .chunks(self.k.max(1))
            .map(|r| r.iter().map(|&w| i32::from(w)).sum())
            .collect()
    }
}

/// The length of [`GemmWeights::quads`] where it is built.
fn quads_len(cout: usize, k: usize) -> usize {
    cout.div_ceil(QUAD_ROWS) * k.div_ceil(4) * QUAD_ROWS * 4
}

/// `out[co][p]` (u8, `[cout][p]`) from `x` (u8, `[k][p]`), with the kernel of `isa`.
///
/// Every instruction set gives the same bits (exact i32 accumulation, then [`Requant`]).
///
/// # Panics
/// When `isa` is not [`Isa::supported`] on this CPU (callers check that first; forcing it is
/// never undefined behaviour), or when the lengths do not fit the geometry: `x.len() != w.k · p`,
/// `out.len() != w.cout · p`, `rq` has not one bias and scale per output channel, or `w`'s packed
/// layouts do not match its shape. Checked once per call, since the SIMD paths read through raw
/// pointers sized by them.
pub(crate) fn gemm(isa: Isa, w: &GemmWeights, x: &[u8], p: usize, rq: &Requant, out: &mut [u8]) {
    assert_eq!(x.len(), w.k * p, "gemm: input length");
    assert_eq!(out.len(), w.cout * p, "gemm: output length");
    assert!(
        rq.bias.len() == w.cout && rq.scale.len() == w.cout,
        "gemm: requantization per output channel"
    );
    assert_eq!(w.plain.len(), w.cout * w.k, "gemm: weights");
    assert_eq!(w.k4.len(), w.cout * w.k.div_ceil(4), "gemm: packed weights");
    assert_eq!(
        w.pairs.len(),
        w.cout.div_ceil(PAIR_ROWS) * w.k.div_ceil(2) * PAIR_ROWS,
        "gemm: paired weights"
    );
    if isa == Isa::NeonDot {
        assert!(
            w.quads.len() == quads_len(w.cout, w.k) && w.flip.len() == w.cout,
            "gemm: dot-product weights"
        );
    }
    assert!(isa.supported(), "gemm: {isa} is not supported by this CPU");
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512Vnni => {
            // SAFETY: the CPU has the features the function is compiled for (checked above),
            // and the lengths fit the geometry.
            unsafe { x86::gemm_vnni(w, x, p, rq, out) };
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            // SAFETY: as above.
            unsafe { x86::gemm_avx2(w, x, p, rq, out) };
        }
        #[cfg(all(target_arch = "aarch64", target_endian = "little"))]
        Isa::NeonDot => {
            // SAFETY: as above (with the dot-product layouts checked too).
            unsafe { arm::gemm_dot(w, x, p, rq, out) };
        }
        #[cfg(all(target_arch = "aarch64", target_endian = "little"))]
        Isa::Neon => {
            // SAFETY: as above.
            unsafe { arm::gemm_neon(w, x, p, rq, out) };
        }
        #[cfg(all(target_arch = "arm", target_endian = "little", target_feature = "neon"))]
        Isa::Neon => {
            // SAFETY: the whole build has NEON (the cfg), so the CPU running it has too; the
            // kernel checks its lengths itself.
            unsafe { arm32::gemm_neon(w, x, p, rq, out) }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Isa::Simd128 => wasm::gemm_simd128(w, x, p, rq, out),
        // Only the portable product is left supported (see `Isa::supported`).
        _ => gemm_portable(w, x, p, rq, out),
    }
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

/// One channel's rows of the im2col matrix `[c·kh·kw][out_h·out_w]`: `dst`
/// (`[kh·kw][out_h·out_w]`, whatever it held) from `plane` (`[h][w]`), padding with `zero`.
///
/// # Panics
/// When `plane` or `dst` is shorter than the window says.
pub(crate) fn im2col_plane(plane: &[u8], win: &Window, zero: u8, dst: &mut [u8]) {
    let (oh, ow) = (win.out_h(), win.out_w());
    let (sy, sx) = win.stride;
    dst.fill(zero);
    for (tap, dst) in dst
        .chunks_exact_mut(oh * ow)
        .take(win.kh * win.kw)
        .enumerate()
    {
        let (ky, kx) = (tap / win.kw, tap % win.kw);
        // The outputs whose input column is inside the image: no test in the loop.
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
    /// `store` of every sum in `acc` into `out`, in one pass (vectorizes).
    #[inline(always)]
    fn store_run(ch: Self::Channel, acc: &[f32], out: &mut [Self::Out]) {
        for (o, &a) in out.iter_mut().zip(acc) {
            *o = Self::store(ch, a);
        }
    }
    /// What `store_lanes` needs of channels `c0..c0 + DW_LANES`, as arrays (those past the
    /// last, `n`, repeat it).
    type Lanes;
    fn lanes(&self, c0: usize, n: usize) -> Self::Lanes;
    /// `store` of each lane, written as loops over arrays so that it vectorizes across the
    /// lanes (`std::array::from_fn` is not inlined into the SIMD versions: scalar code).
    fn store_lanes(lanes: &Self::Lanes, acc: &[f32; DW_LANES], out: &mut [Self::Out; DW_LANES]);
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
    #[allow(clippy::manual_clamp)] // max/min replace a NaN; clamp would keep it
    fn store((bias, scale, zero): (i32, f32, i32), acc: f32) -> u8 {
        // acc is an exact integer below 2^24 in magnitude while the window has at most
        // DW_MAX_TAPS taps and the weights are i8 values. Bounding it first (max/min, which
        // also replace a NaN) makes the conversion one vector instruction: a saturating `as`
        // is scalar code on x86 (measured: most of the kernel's time). A caller that breaks
        // the bound gets a wrong value, never undefined behaviour.
        const BOUND: f32 = (1 << 24) as f32;
        let acc = acc.max(-BOUND).min(BOUND);
        // SAFETY: acc is finite and within ±2^24.
        let acc: i32 = unsafe { acc.to_int_unchecked() };
        requant(acc.saturating_add(bias), scale, zero)
    }
    #[inline(always)]
    fn store_run((bias, scale, zero): (i32, f32, i32), acc: &[f32], out: &mut [u8]) {
        if bias.unsigned_abs() <= FLOAT_BIAS {
            let (bias, zero) = (bias as f32, zero as f32);
            for (o, &a) in out.iter_mut().zip(acc) {
                *o = requant_f32(a, bias, scale, zero);
            }
        } else {
            for (o, &a) in out.iter_mut().zip(acc) {
                *o = Self::store((bias, scale, zero), a);
            }
        }
    }
    type Lanes = ([i32; DW_LANES], [f32; DW_LANES], i32);
    #[inline(always)]
    fn lanes(&self, c0: usize, n: usize) -> Self::Lanes {
        let (mut bias, mut scale) = ([0; DW_LANES], [0.0; DW_LANES]);
        for l in 0..DW_LANES {
            let ch = c0 + l.min(n - 1);
            (bias[l], scale[l]) = (self.rq.bias[ch], self.rq.scale[ch]);
        }
        (bias, scale, i32::from(self.rq.zero))
    }
    #[inline(always)]
    fn store_lanes(
        (bias, scale, zero): &Self::Lanes,
        acc: &[f32; DW_LANES],
        out: &mut [u8; DW_LANES],
    ) {
        for l in 0..DW_LANES {
            out[l] = Self::store((bias[l], scale[l], *zero), acc[l]);
        }
    }
}

/// Largest bias magnitude [`requant_f32`] takes: up to 2^24 an i32 bias is an exact f32.
const FLOAT_BIAS: u32 = 1 << 24;

/// [`QuantEnds::store`] for a bias within ±[`FLOAT_BIAS`], in f32 only (half the instructions):
/// the same bits. `acc` and `bias` are exact integers, so `acc + bias` rounds once, as the i32
/// sum's conversion does; adding the integer zero point after rounding is exact while it
/// matters (beyond 2^24 the value clamps either way, with the same sign); `max` and `min` also
/// turn a NaN (a NaN or infinite scale) into 0, as [`requant`] does.
#[inline(always)]
#[allow(clippy::manual_clamp)] // max/min replace a NaN; clamp would keep it
fn requant_f32(acc: f32, bias: f32, scale: f32, zero: f32) -> u8 {
    let r = (((acc + bias) * scale).round_ties_even() + zero)
        .max(0.0)
        .min(255.0);
    // SAFETY: r is finite and within 0..=255.
    unsafe { r.to_int_unchecked::<u8>() }
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
    type Lanes = [f32; DW_LANES];
    #[inline(always)]
    fn lanes(&self, c0: usize, n: usize) -> Self::Lanes {
        let mut bias = [0.0; DW_LANES];
        for (l, b) in bias.iter_mut().enumerate() {
            *b = self.bias[c0 + l.min(n - 1)];
        }
        bias
    }
    #[inline(always)]
    fn store_lanes(bias: &Self::Lanes, acc: &[f32; DW_LANES], out: &mut [f32; DW_LANES]) {
        for l in 0..DW_LANES {
            out[l] = acc[l] + bias[l];
        }
    }
}

/// Depthwise convolution of `x` (`[c][h][w]`) with `w` (`[c][kh][kw]`, as f32) into `out`
/// (`[c][out_h][out_w]`) on `isa`'s code generation ([`depthwise_portable`] compiled for AVX-512,
/// for AVX2 with FMA, or for the target's baseline); `ends` converts the input and the output.
///
/// Measured on an "Intel(R) Xeon(R) Processor" with AVX-512 VNNI (2 shared cores),
/// `depthwise_speed` (EfficientNet-Lite0's 16 depthwise layers, 34.5 M MACs), the least of
/// 8 interleaved rounds: 4.4 ms with `avx512vnni` and 5.2 ms with `avx2` before the unrolled
/// windows ([`fixed_block`]) and the f32 requantization ([`requant_f32`]), 3.4 ms and 4.0 ms
/// after; the whole model (`ledge bench`, p50) 8.4 → 7.2 ms and 14.8 → 13.1 ms.
///
/// # Panics
/// If `isa` is not supported (as [`gemm`]), or `x`, `w` or `out` are shorter than the
/// geometry.
pub(crate) fn depthwise<E: DwEnds>(
    isa: Isa,
    x: &[E::In],
    c: usize,
    win: &Window,
    w: &[f32],
    ends: &E,
    out: &mut [E::Out],
) {
    assert!(isa.supported(), "{isa} is not supported on this CPU");
    let (hw, ohw) = (win.h * win.w, win.out_h() * win.out_w());
    assert!(
        x.len() >= c * hw && w.len() >= c * win.kh * win.kw && out.len() >= c * ohw,
        "depthwise buffers do not fit the geometry"
    );
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: supported() checked AVX-512 F, BW, VL and VNNI; every AVX-512 CPU has AVX2 and
        // FMA.
        Isa::Avx512Vnni => unsafe { x86::depthwise_avx512(x, c, win, w, ends, out) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if std::arch::is_x86_feature_detected!("fma") => {
            // SAFETY: supported() checked AVX2, and FMA just above.
            unsafe { x86::depthwise_avx2(x, c, win, w, ends, out) }
        }
        // aarch64 always has a fused multiply-add; elsewhere without one `mul_add` is a libm
        // call.
        _ => depthwise_portable::<{ cfg!(target_arch = "aarch64") }, false, _, E>(
            Plain::<{ cfg!(target_arch = "aarch64") }>,
            x,
            c,
            win,
            w,
            ends,
            out,
        ),
    }
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
        // The buffer is sized for every tap of every block (the slicing would panic, never
        // skip): the conversion of N elements to N never fails.
        let Ok(src) = <&[f32; N]>::try_from(&phases[start + at..][..N]) else {
            continue;
        };
        for (a, &v) in sum.iter_mut().zip(src) {
            *a = if FMA { wv.mul_add(v, *a) } else { *a + wv * v };
        }
    }
    out.copy_from_slice(&sum);
}

/// What [`fixed_block`] reads and writes: the phases, the block's first output in them, the
/// phase size and row pitch, the channel's weights, its output conversion, the block's outputs.
type FixedArgs<'a, E> = (
    &'a [f32],
    usize,
    usize,
    usize,
    &'a [f32],
    <E as DwEnds>::Channel,
    &'a mut [<E as DwEnds>::Out],
);

/// f32 vectors of one instruction set, for the depthwise kernel's unrolled windows
/// ([`fixed_block`]). A value of the implementing type proves the CPU runs the instructions
/// (x86 ones are only made after run-time detection), so the operations are safe to call.
/// Written with intrinsics: the compiler's own vectorization of the same loops depends on
/// their exact shape (measured: the same portable code in registers for one vector width,
/// spilled to the stack or split into 128-bit pieces for another).
pub(crate) trait Simd: Copy {
    /// A vector of `LANES` f32.
    type V: Copy;
    const LANES: usize;
    /// Vectors of outputs [`fixed_block`] sums at a time: 8, or 4 where that many spill.
    const ACCUMULATORS: usize = 8;
    fn zero(self) -> Self::V;
    fn splat(self, v: f32) -> Self::V;
    /// The first `LANES` values of `src`.
    ///
    /// # Panics
    /// If `src` is shorter than `LANES`.
    fn load(self, src: &[f32]) -> Self::V;
    /// `acc + w · v` (fused where the instruction set has it: exact either way here, every
    /// product and sum being an integer below 2^24).
    fn mul_add(self, v: Self::V, w: Self::V, acc: Self::V) -> Self::V;
    /// `v` into the first `LANES` values of `dst`.
    ///
    /// # Panics
    /// If `dst` is shorter than `LANES`.
    fn store(self, v: Self::V, dst: &mut [f32]);
}

/// Four f32 in plain Rust (one vector register on SSE2, NEON and SIMD128, where the
/// compiler's vectorization of four lanes is reliable), with fused multiply-adds if `FMA`
/// (only where the target has them in hardware: elsewhere `mul_add` is a libm call).
#[derive(Clone, Copy)]
pub(crate) struct Plain<const FMA: bool>;

impl<const FMA: bool> Simd for Plain<FMA> {
    type V = [f32; 4];
    const LANES: usize = 4;
    /// A wasm engine on x86_64 has 16 vector registers: eight accumulators and the weights
    /// spill.
    const ACCUMULATORS: usize = if cfg!(target_arch = "wasm32") { 4 } else { 8 };
    #[inline(always)]
    fn zero(self) -> [f32; 4] {
        [0.0; 4]
    }
    #[inline(always)]
    fn splat(self, v: f32) -> [f32; 4] {
        [v; 4]
    }
    #[inline(always)]
    fn load(self, src: &[f32]) -> [f32; 4] {
        [src[0], src[1], src[2], src[3]]
    }
    #[inline(always)]
    fn mul_add(self, v: [f32; 4], w: [f32; 4], acc: [f32; 4]) -> [f32; 4] {
        let mut r = acc;
        for i in 0..4 {
            r[i] = if FMA {
                w[i].mul_add(v[i], r[i])
            } else {
                r[i] + w[i] * v[i]
            };
        }
        r
    }
    #[inline(always)]
    fn store(self, v: [f32; 4], dst: &mut [f32]) {
        dst[..4].copy_from_slice(&v);
    }
}

/// [`fixed_block`] for the windows it has code for (3×3 and 5×5 at stride 1 or 2), or false.
#[inline(always)]
fn fixed_window<S: Simd, E: DwEnds>(simd: S, win: &Window, args: FixedArgs<'_, E>) -> bool {
    match (win.kh, win.kw, win.stride) {
        (3, 3, (1, 1)) => fixed_block::<S, 3, 1, E>(simd, args),
        (3, 3, (2, 2)) => fixed_block::<S, 3, 2, E>(simd, args),
        (5, 5, (1, 1)) => fixed_block::<S, 5, 1, E>(simd, args),
        (5, 5, (2, 2)) => fixed_block::<S, 5, 2, E>(simd, args),
        _ => return false,
    }
    true
}

/// One block of the planar kernel for a `K`×`K` window at stride `ST` (both directions):
/// every tap's offset is a constant combination of the phase size and pitch, the taps are
/// unrolled with the weights in registers, eight vectors of outputs are summed at a time (as
/// many independent multiply-adds as two units with a latency of 4 keep busy; four on wasm32) and
/// converted as soon as they are summed.
#[inline(always)]
fn fixed_block<S: Simd, const K: usize, const ST: usize, E: DwEnds>(
    simd: S,
    (phases, start, plane, wq, kernel, channel, stored): FixedArgs<'_, E>,
) {
    let l = S::LANES;
    let offset = |t: usize| {
        let (ky, kx) = (t / K, t % K);
        ((ky % ST) * ST + kx % ST) * plane + (ky / ST) * wq + kx / ST
    };
    let mut wts = [simd.zero(); 25];
    for (w, &k) in wts.iter_mut().zip(&kernel[..K * K]) {
        *w = simd.splat(k);
    }
    let mut offsets = [0; 25];
    for (t, o) in offsets.iter_mut().enumerate().take(K * K) {
        *o = offset(t);
    }
    let span = offsets.iter().copied().max().unwrap_or(0);
    let mut sums = [0f32; 8 * 16];
    // Outputs per chunk: `S::ACCUMULATORS` vectors (4 or 8).
    let n = S::ACCUMULATORS * l;
    let (wide, tail) = stored.split_at_mut(stored.len() / n * n);
    for (i, out) in wide.chunks_exact_mut(n).enumerate() {
        let src = &phases[start + i * n..][..span + n];
        let [mut a0, mut a1, mut a2, mut a3, mut a4, mut a5, mut a6, mut a7] = [simd.zero(); 8];
        for (&at, &w) in offsets.iter().zip(&wts).take(K * K) {
            let src = &src[at..][..n];
            a0 = simd.mul_add(simd.load(src), w, a0);
            a1 = simd.mul_add(simd.load(&src[l..]), w, a1);
            a2 = simd.mul_add(simd.load(&src[2 * l..]), w, a2);
            a3 = simd.mul_add(simd.load(&src[3 * l..]), w, a3);
            if S::ACCUMULATORS == 8 {
                a4 = simd.mul_add(simd.load(&src[4 * l..]), w, a4);
                a5 = simd.mul_add(simd.load(&src[5 * l..]), w, a5);
                a6 = simd.mul_add(simd.load(&src[6 * l..]), w, a6);
                a7 = simd.mul_add(simd.load(&src[7 * l..]), w, a7);
            }
        }
        let acc = [a0, a1, a2, a3, a4, a5, a6, a7];
        for (j, &a) in acc.iter().enumerate().take(S::ACCUMULATORS) {
            simd.store(a, &mut sums[j * l..]);
        }
        E::store_run(channel, &sums[..n], out);
    }
    for (i, out) in tail.chunks_exact_mut(l).enumerate() {
        let src = &phases[start + wide.len() + i * l..][..span + l];
        let mut a = simd.zero();
        for (&at, &w) in offsets.iter().zip(&wts).take(K * K) {
            a = simd.mul_add(simd.load(&src[at..]), w, a);
        }
        simd.store(a, &mut sums);
        E::store_run(channel, &sums[..l], out);
    }
}

/// The depthwise kernel accumulates in f32: exact for quantized inputs (see [`DW_MAX_TAPS`]),
/// so the result converted back to i32 equals the integer definition bit for bit, and fast on
/// every SIMD instruction set.
///
/// The padded input is split into phases, phase `(ry, rx)` holding the padded rows `ry, ry +
/// sy, ...` and columns `rx, rx + sx, ...` (one phase at stride 1). Output `(oy, ox)` at tap
/// `(ky, kx)` reads phase `(ky mod sy, kx mod sx)` at row `oy + ky / sy`, column `ox + kx /
/// sx`: with the outputs laid out at the phases' row pitch, a block of output rows reads one
/// contiguous run per tap, so each tap is a single long multiply-add whatever the stride and
/// the plane size, and only the pitch's few padding columns are computed in vain.
///
/// `FMA`: use fused multiply-adds (only where the target has them in hardware).
#[inline(always)]
fn depthwise_portable<const FMA: bool, const FLAT: bool, S: Simd, E: DwEnds>(
    simd: S,
    x: &[E::In],
    c: usize,
    win: &Window,
    w: &[f32],
    ends: &E,
    out: &mut [E::Out],
) {
    if win.out_h() * win.out_w() <= DW_SMALL {
        return depthwise_blocked::<FMA, FLAT, E>(x, c, win, w, ends, out);
    }
    let (oh, ow) = (win.out_h(), win.out_w());
    let (sy, sx) = win.stride;
    let (hp, wp) = (
        win.h + win.pad[0] + win.pad[2],
        win.w + win.pad[1] + win.pad[3],
    );
    // Phase row pitch and size.
    let (hq, wq) = (hp.div_ceil(sy), wp.div_ceil(sx));
    let plane = hq * wq;
    let taps = win.kh * win.kw;
    // Each tap's offset into the phases, from the first output of a block.
    let offsets: Vec<usize> = (0..taps)
        .map(|t| {
            let (ky, kx) = (t / win.kw, t % win.kw);
            ((ky % sy) * sx + kx % sx) * plane + (ky / sy) * wq + kx / sx
        })
        .collect();
    let rows = (DW_BLOCK / wq).clamp(1, oh);
    let last = (oh - 1) / rows * rows;
    let block_len = |oy0: usize| (rows.min(oh - oy0) * wq).next_multiple_of(DW_TAIL);
    // Every read: the last block's run from the largest offset.
    let reach = last * wq + block_len(last) + offsets.iter().max().unwrap_or(&0);
    let mut phases = vec![0f32; reach.max(sy * sx * plane)];
    let mut acc = vec![0f32; block_len(0)];
    let mut stored = vec![E::Out::default(); acc.len()];
    // The first input column of each column phase, and where it goes in the phase's rows.
    let columns: Vec<(usize, usize)> = (0..sx)
        .filter_map(|rx| {
            let x0 = (rx + sx - win.pad[1] % sx) % sx;
            (x0 < win.w).then_some((x0, rx * plane + (x0 + win.pad[1]) / sx))
        })
        .collect();
    for ch in 0..c {
        let input = &x[ch * win.h * win.w..(ch + 1) * win.h * win.w];
        for (iy, src) in input.chunks_exact(win.w).enumerate() {
            let y = iy + win.pad[0];
            let row = (y % sy) * sx * plane + (y / sy) * wq;
            if sx == 1 {
                let at = row + win.pad[1];
                for (d, &v) in phases[at..at + win.w].iter_mut().zip(src) {
                    *d = ends.load(v);
                }
            } else if sx == 2 {
                // Pairs of columns: de-interleaved with vector shuffles.
                for &(x0, at) in &columns {
                    let src = &src[x0..];
                    let dst = &mut phases[row + at..][..src.len().div_ceil(2)];
                    let (pairs, rest) = src.split_at(src.len() / 2 * 2);
                    for (d, p) in dst.iter_mut().zip(pairs.chunks_exact(2)) {
                        *d = ends.load(p[0]);
                    }
                    if let Some(&v) = rest.first() {
                        dst[pairs.len() / 2] = ends.load(v);
                    }
                }
            } else {
                for &(x0, at) in &columns {
                    let src = src[x0..].iter().step_by(sx);
                    for (d, &v) in phases[row + at..].iter_mut().zip(src) {
                        *d = ends.load(v);
                    }
                }
            }
        }
        let kernel = &w[ch * taps..(ch + 1) * taps];
        let dst = &mut out[ch * oh * ow..(ch + 1) * oh * ow];
        let channel = ends.channel(ch);
        for oy0 in (0..oh).step_by(rows) {
            let n = block_len(oy0);
            let args = (
                &phases[..],
                oy0 * wq,
                plane,
                wq,
                kernel,
                channel,
                &mut stored[..n],
            );
            if !fixed_window::<S, E>(simd, win, args) {
                let (wide, tail) = acc[..n].split_at_mut(n / DW_CHUNK * DW_CHUNK);
                let start = oy0 * wq;
                for (i, chunk) in wide.chunks_exact_mut(DW_CHUNK).enumerate() {
                    taps_into::<FMA, DW_CHUNK>(
                        chunk,
                        &phases,
                        start + i * DW_CHUNK,
                        &offsets,
                        kernel,
                    );
                }
                for (i, chunk) in tail.chunks_exact_mut(DW_TAIL).enumerate() {
                    let at = start + wide.len() + i * DW_TAIL;
                    taps_into::<FMA, DW_TAIL>(chunk, &phases, at, &offsets, kernel);
                }
                // Convert the whole block in one pass (long vectors).
                E::store_run(channel, &acc[..n], &mut stored[..n]);
            }
            // Keep each row's first `ow` columns.
            let rows_out = dst[oy0 * ow..].chunks_exact_mut(ow).take(rows);
            for (src, dst) in stored[..n].chunks(wq).zip(rows_out) {
                dst.copy_from_slice(&src[..ow]);
            }
        }
    }
}

/// Channels per vector of the small-plane kernel ([`depthwise_blocked`]).
pub(crate) const DW_LANES: usize = 16;
/// Output planes up to this size take [`depthwise_blocked`]: EfficientNet-Lite0's 7×7 ones
/// (measured on its layers: with the unrolled planar windows, 14×14 planes are faster planar,
/// by up to 1.7×, and 7×7 ones 1.1–1.9× faster blocked).
const DW_SMALL: usize = 100;

/// The depthwise kernel for small planes, where the planar one's fixed costs per row and per
/// channel dominate: `DW_LANES` channels at a time, transposed into one padded plane of
/// vectors (channel innermost), so every tap is one multiply-add of `DW_LANES` channels with
/// each lane's own weight, no output computed in vain, at any stride; the requantization
/// vectorizes across the channels. Exact for quantized inputs as the planar kernel.
#[inline(always)]
fn depthwise_blocked<const FMA: bool, const FLAT: bool, E: DwEnds>(
    x: &[E::In],
    c: usize,
    win: &Window,
    w: &[f32],
    ends: &E,
    out: &mut [E::Out],
) {
    const L: usize = DW_LANES;
    let (oh, ow) = (win.out_h(), win.out_w());
    let (sy, sx) = win.stride;
    let (kh, kw) = (win.kh, win.kw);
    let wp = win.w + win.pad[1] + win.pad[3];
    let hp = win.h + win.pad[0] + win.pad[2];
    let (hw, ohw, taps) = (win.h * win.w, oh * ow, kh * kw);
    // The padding stays zero; lanes past the last channel keep earlier (finite) values, whose
    // outputs are dropped.
    let mut buf = vec![[0f32; L]; hp * wp];
    let mut wts = vec![[0f32; L]; taps];
    let mut stage = vec![[E::Out::default(); L]; ohw];
    // Each tap's offset in `buf` from its output's first tap.
    let offsets: Vec<usize> = (0..taps).map(|t| t / kw * wp + t % kw).collect();
    for c0 in (0..c).step_by(L) {
        let n = L.min(c - c0);
        for l in 0..L {
            for (t, wt) in wts.iter_mut().enumerate() {
                wt[l] = if l < n { w[(c0 + l) * taps + t] } else { 0.0 };
            }
        }
        for l in 0..n {
            let plane = &x[(c0 + l) * hw..][..hw];
            for (iy, src) in plane.chunks_exact(win.w).enumerate() {
                let row = &mut buf[(iy + win.pad[0]) * wp + win.pad[1]..][..win.w];
                for (d, &v) in row.iter_mut().zip(src) {
                    d[l] = ends.load(v);
                }
            }
        }
        let lanes = ends.lanes(c0, n);
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = [0f32; L];
                let base = oy * sy * wp + ox * sx;
                if FLAT {
                    // One loop over the taps, the lanes innermost: with AVX-512 (one register
                    // of 16 lanes) ~1.4× faster than the nested loops, with AVX2 ~1.5× slower
                    // (measured on EfficientNet-Lite0's 7×7 and 14×14 layers).
                    for (&at, wv) in offsets.iter().zip(&wts) {
                        let v = &buf[base + at];
                        for (a, (&v, &wv)) in acc.iter_mut().zip(v.iter().zip(wv)) {
                            *a = if FMA { wv.mul_add(v, *a) } else { *a + wv * v };
                        }
                    }
                } else {
                    for ky in 0..kh {
                        let row = &buf[base + ky * wp..][..kw];
                        let wrow = &wts[ky * kw..][..kw];
                        for (v, wv) in row.iter().zip(wrow) {
                            for l in 0..L {
                                acc[l] = if FMA {
                                    wv[l].mul_add(v[l], acc[l])
                                } else {
                                    acc[l] + wv[l] * v[l]
                                };
                            }
                        }
                    }
                }
                E::store_lanes(&lanes, &acc, &mut stage[oy * ow + ox]);
            }
        }
        for l in 0..n {
            let dst = &mut out[(c0 + l) * ohw..][..ohw];
            for (d, s) in dst.iter_mut().zip(&stage) {
                *d = s[l];
            }
        }
    }
}

/// Packs the pixels `p0..p0 + n` of `x` (u8, `[k][p]`) as the pair products want them: `xp` as
/// `[k/2][width]` i32 lanes, each two consecutive k widened to i16 (`x[2q] | x[2q+1] << 16`; an
/// odd k's last lane has a zero high half). Lanes past `n` keep the previous panel's values:
/// computed, never stored. Shared by the AVX2 and SIMD128 products.
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )),
    allow(dead_code)
)]
#[inline(always)]
fn pack_pairs(x: &[u8], p: usize, k: usize, p0: usize, n: usize, xp: &mut [i32], width: usize) {
    for (q, dst) in xp.chunks_exact_mut(width).enumerate() {
        let r0 = &x[2 * q * p + p0..][..n];
        match x.get((2 * q + 1) * p + p0..).filter(|_| 2 * q + 1 < k) {
            Some(r1) => {
                for ((d, &a), &b) in dst.iter_mut().zip(r0).zip(&r1[..n]) {
                    *d = i32::from(a) | i32::from(b) << 16;
                }
            }
            None => {
                for (d, &a) in dst.iter_mut().zip(r0) {
                    *d = i32::from(a);
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
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }

    pub(super) fn has_avx2() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
    }

    /// Pixels per register tile of the AVX2 product, in vectors of 8 i32.
    const NV2: usize = 2;
    const NR2: usize = 8 * NV2;

    /// The matrix product with AVX2 `vpmaddwd`: u8 inputs and i8 weights widened to i16, each
    /// i32 lane holding a pair of consecutive k, so one instruction forms `w0·x0 + w1·x1` in
    /// i32, exactly (unlike `vpmaddubsw`, whose i16 pair sum saturates: 2 · 255 · 128 > 2^15).
    ///
    /// Tiles of [`PAIR_ROWS`] channels × 16 pixels, accumulated over the whole of k in eight
    /// registers. The inputs are packed one 16-pixel panel at a time (`[k/2][16]` pairs, from
    /// the caller's `[k][p]` rows), which all the channel panels then read from L1.
    ///
    /// # Safety
    /// The CPU must support AVX2, and the lengths must fit the geometry as [`gemm`] asserts
    /// (`x`: `k · p`, `out`: `cout · p`, `w.pairs`: every panel, `rq`: one per channel).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn gemm_avx2(
        w: &GemmWeights,
        x: &[u8],
        p: usize,
        rq: &Requant,
        out: &mut [u8],
    ) {
        let k2n = w.k.div_ceil(2);
        let panels = w.cout.div_ceil(PAIR_ROWS);
        let mut xp = vec![0i32; k2n * NR2];
        for p0 in (0..p).step_by(NR2) {
            let n = (p - p0).min(NR2);
            pack_pairs(x, p, w.k, p0, n, &mut xp, NR2);
            for panel in 0..panels {
                let co0 = panel * PAIR_ROWS;
                let rows = (w.cout - co0).min(PAIR_ROWS);
                let wp = &w.pairs[panel * k2n * PAIR_ROWS..(panel + 1) * k2n * PAIR_ROWS];
                let mut bias = [0i32; PAIR_ROWS];
                bias[..rows].copy_from_slice(&rq.bias[co0..co0 + rows]);
                let mut bytes = [0u8; NR2];
                if n > 8 {
                    // SAFETY: wp and xp hold k2n groups of PAIR_ROWS and NR2 values (just
                    // sliced and allocated so), all the tile reads.
                    let acc = unsafe { tile_avx2::<PAIR_ROWS, NV2>(wp, &xp, k2n, bias) };
                    for (r, acc) in acc.iter().enumerate().take(rows) {
                        let co = co0 + r;
                        // SAFETY: AVX2 is enabled in this function.
                        unsafe { requant_avx2(acc, rq.scale[co], rq.zero, &mut bytes) };
                        let dst = &mut out[co * p + p0..co * p + p0 + n];
                        // A constant length (the usual case) is stored inline, not by a call.
                        match <&mut [u8; NR2]>::try_from(&mut *dst) {
                            Ok(full) => *full = bytes,
                            Err(_) => dst.copy_from_slice(&bytes[..n]),
                        }
                    }
                } else {
                    // At most 8 pixels left (49 = 3 · 16 + 1 on 7×7 layers): one vector.
                    // SAFETY: as above.
                    let acc = unsafe { tile_avx2::<PAIR_ROWS, 1>(wp, &xp, k2n, bias) };
                    for (r, acc) in acc.iter().enumerate().take(rows) {
                        let co = co0 + r;
                        // SAFETY: AVX2 is enabled in this function.
                        unsafe { requant_avx2(acc, rq.scale[co], rq.zero, &mut bytes) };
                        out[co * p + p0..co * p + p0 + n].copy_from_slice(&bytes[..n]);
                    }
                }
            }
        }
    }

    /// One register tile: `acc[r][v]` = `bias[r]` + Σ_q `vpmaddwd(x[q][8v..8v + 8], w[q][r])`,
    /// the pixels of `x` in groups of [`NR2`] (of which the first `8 · V` are used).
    ///
    /// # Panics
    /// When `w` holds fewer than `k2n · R` values, `x` fewer than `k2n · NR2`, or `V > NV2`.
    ///
    /// # Safety
    /// AVX2 must be enabled in the caller.
    #[inline(always)]
    unsafe fn tile_avx2<const R: usize, const V: usize>(
        w: &[i32],
        x: &[i32],
        k2n: usize,
        bias: [i32; R],
    ) -> [[__m256i; V]; R] {
        assert!(
            w.len() >= k2n * R && x.len() >= k2n * NR2 && V <= NV2,
            "tile_avx2: lengths"
        );
        // SAFETY: the reads stay within the lengths above.
        unsafe {
            let mut acc = bias.map(|b| [_mm256_set1_epi32(b); V]);
            let (wp, xp) = (w.as_ptr(), x.as_ptr());
            for q in 0..k2n {
                let mut xv = [_mm256_setzero_si256(); V];
                for (v, xv) in xv.iter_mut().enumerate() {
                    *xv = _mm256_loadu_si256(xp.add(q * NR2 + v * 8) as *const __m256i);
                }
                for (r, acc) in acc.iter_mut().enumerate() {
                    let b = _mm256_set1_epi32(*wp.add(q * R + r));
                    for (a, &xv) in acc.iter_mut().zip(&xv) {
                        *a = _mm256_add_epi32(*a, _mm256_madd_epi16(xv, b));
                    }
                }
            }
            acc
        }
    }

    /// `out[i] = requant(acc[i], scale, zero)` for the `8 · V` lanes of `acc` (bias included),
    /// as the portable `requant`: f32 product, rounded half to even (the default MXCSR mode),
    /// clamped.
    ///
    /// # Panics
    /// When `out` is shorter than `8 · V`.
    ///
    /// # Safety
    /// AVX2 must be enabled in the caller.
    #[inline(always)]
    unsafe fn requant_avx2<const V: usize>(
        acc: &[__m256i; V],
        scale: f32,
        zero: u8,
        out: &mut [u8],
    ) {
        assert!(out.len() >= 8 * V, "requant_avx2: output length");
        // SAFETY: register operations, and 16- or 8-byte stores inside `out`.
        unsafe {
            let scale = _mm256_set1_ps(scale);
            let zero = _mm256_set1_epi32(i32::from(zero));
            let hi = _mm256_set1_ps(1024.0);
            let one = |a: __m256i| {
                let v = _mm256_mul_ps(_mm256_cvtepi32_ps(a), scale);
                // Only the upper clamp: `vminps(hi, v)` keeps a NaN, which like anything below
                // -2^31 converts to i32::MIN, and so saturates to 0 below; the portable kernel
                // clamps those to -1024, which gives 0 as well.
                let v = _mm256_min_ps(hi, v);
                _mm256_add_epi32(_mm256_cvtps_epi32(v), zero)
            };
            for (i, pair) in acc.chunks(2).enumerate() {
                let a = one(pair[0]);
                let b = pair.get(1).map_or(a, |&b| one(b));
                // Saturating packs clamp to 0..=255 (values are i32::MIN + zero or -2^31..=1279).
                let s = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(a, b));
                let u =
                    _mm_packus_epi16(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
                let dst = out.as_mut_ptr().add(16 * i) as *mut __m128i;
                if pair.len() == 2 {
                    _mm_storeu_si128(dst, u);
                } else {
                    _mm_storel_epi64(dst, u);
                }
            }
        }
    }

    /// AVX2 and FMA vectors of 8 f32; made only where the CPU has them (`depthwise_avx2`).
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2(());

    impl Simd for Avx2 {
        type V = __m256;
        const LANES: usize = 8;
        #[inline(always)]
        fn zero(self) -> __m256 {
            // SAFETY (each operation): a value of this type exists only where the CPU has
            // AVX2 and FMA.
            unsafe { _mm256_setzero_ps() }
        }
        #[inline(always)]
        fn splat(self, v: f32) -> __m256 {
            unsafe { _mm256_set1_ps(v) }
        }
        #[inline(always)]
        fn load(self, src: &[f32]) -> __m256 {
            // SAFETY: and the slice holds the 8 values read.
            unsafe { _mm256_loadu_ps(src[..8].as_ptr()) }
        }
        #[inline(always)]
        fn mul_add(self, v: __m256, w: __m256, acc: __m256) -> __m256 {
            unsafe { _mm256_fmadd_ps(v, w, acc) }
        }
        #[inline(always)]
        fn store(self, v: __m256, dst: &mut [f32]) {
            // SAFETY: and the slice holds the 8 values written.
            unsafe { _mm256_storeu_ps(dst[..8].as_mut_ptr(), v) }
        }
    }

    /// AVX-512 F vectors of 16 f32; made only where the CPU has them (`depthwise_avx512`).
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512(());

    impl Simd for Avx512 {
        type V = __m512;
        const LANES: usize = 16;
        #[inline(always)]
        fn zero(self) -> __m512 {
            // SAFETY (each operation): a value of this type exists only where the CPU has
            // AVX-512 F.
            unsafe { _mm512_setzero_ps() }
        }
        #[inline(always)]
        fn splat(self, v: f32) -> __m512 {
            unsafe { _mm512_set1_ps(v) }
        }
        #[inline(always)]
        fn load(self, src: &[f32]) -> __m512 {
            // SAFETY: and the slice holds the 16 values read.
            unsafe { _mm512_loadu_ps(src[..16].as_ptr()) }
        }
        #[inline(always)]
        fn mul_add(self, v: __m512, w: __m512, acc: __m512) -> __m512 {
            unsafe { _mm512_fmadd_ps(v, w, acc) }
        }
        #[inline(always)]
        fn store(self, v: __m512, dst: &mut [f32]) {
            // SAFETY: and the slice holds the 16 values written.
            unsafe { _mm512_storeu_ps(dst[..16].as_mut_ptr(), v) }
        }
    }

    /// [`depthwise_portable`] compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn depthwise_avx2<E: DwEnds>(
        x: &[E::In],
        c: usize,
        win: &Window,
        w: &[f32],
        ends: &E,
        out: &mut [E::Out],
    ) {
        depthwise_portable::<true, false, _, E>(Avx2(()), x, c, win, w, ends, out)
    }

    /// [`depthwise_portable`] compiled for AVX-512.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and BW, AVX2 and FMA.
    #[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
    pub(super) unsafe fn depthwise_avx512<E: DwEnds>(
        x: &[E::In],
        c: usize,
        win: &Window,
        w: &[f32],
        ends: &E,
        out: &mut [E::Out],
    ) {
        depthwise_portable::<true, true, _, E>(Avx512(()), x, c, win, w, ends, out)
    }

    /// [`quantize_portable`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn quantize_avx2(x: &[f32], scale_recip: f32, zero: u8, out: &mut [u8]) {
        quantize_portable(x, scale_recip, zero, out)
    }

    /// [`quantize_portable`] compiled for AVX-512.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and BW, AVX2 and FMA.
    #[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
    pub(super) unsafe fn quantize_avx512(x: &[f32], scale_recip: f32, zero: u8, out: &mut [u8]) {
        quantize_portable(x, scale_recip, zero, out)
    }

    /// Output channels per register tile (`Isa::gemm_rows`).
    const MR: usize = 8;
    /// Pixels per register tile: two vectors of 16 i32.
    const NR: usize = 32;

    /// The matrix product with `vpdpbusd` (u8 × i8 → i32, four k at a time).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, BW, VL and VNNI, and the lengths must fit the geometry as
    /// [`gemm`] asserts (the tiles write `out` through raw pointers).
    // avx512vl: the 16-byte masked store of each output row (`_mm_mask_storeu_epi8`) needs it
    // to be inlined; without it the store was a function call, 3 % of EfficientNet-Lite0's time.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    pub(super) unsafe fn gemm_vnni(
        w: &GemmWeights,
        x: &[u8],
        p: usize,
        rq: &Requant,
        out: &mut [u8],
    ) {
        let k4n = w.k.div_ceil(4);
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

    /// `R` channels from `co0` × up to 32 pixels from `p0` (lanes chosen by `m0` and `m1`).
    ///
    /// # Safety
    /// AVX-512 F, BW, VL and VNNI must be enabled in the caller; `xp` must be `[k4n][p]`, `w.k4`
    /// `[cout][k4n]`, `out` `[cout][p]`, `rq` one per channel, `co0 + R ≤ cout`, and the masks
    /// must select only pixels below `p`.
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
        // SAFETY: the caller's contract keeps every unmasked lane inside xp, w.k4 and out.
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

/// `dst[..src.len()] = src`, inline (no call) for a whole row of `N` bytes, the usual case
/// (the products of [`pair_panels`]).
#[cfg(any(
    all(target_arch = "aarch64", target_endian = "little"),
    all(target_arch = "arm", target_endian = "little", target_feature = "neon"),
    all(target_arch = "wasm32", target_feature = "simd128")
))]
#[inline(always)]
fn copy_row<const N: usize>(dst: &mut [u8], src: &[u8]) {
    match (
        <&mut [u8; N]>::try_from(&mut *dst),
        <&[u8; N]>::try_from(src),
    ) {
        (Ok(d), Ok(s)) => *d = *s,
        _ => dst[..src.len()].copy_from_slice(src),
    }
}

/// The outer loops of the products over [`GemmWeights::pairs`] (aarch64 `smlal`, armv7
/// `vmlal.s16`, wasm32 `i32x4.dot_i16x8_s`): the inputs packed one `N`-pixel panel at a time by
/// `pack(p0, n, panel)` into `packed` elements (lanes past the last pixel keep the previous
/// panel's values: computed, never stored), then every panel of [`PAIR_ROWS`] channels computed
/// by `tile` from L1 and each channel's accumulators stored by `requant` (its first `n` bytes).
///
/// # Panics
/// When the lengths do not fit the geometry ([`gemm`] asserts them first).
#[cfg(any(
    all(target_arch = "aarch64", target_endian = "little"),
    all(target_arch = "arm", target_endian = "little", target_feature = "neon"),
    all(target_arch = "wasm32", target_feature = "simd128")
))]
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pair_panels<const N: usize, X: Copy + Default, A, B: AsRef<[u8]>>(
    w: &GemmWeights,
    p: usize,
    rq: &Requant,
    out: &mut [u8],
    packed: usize,
    pack: impl Fn(usize, usize, &mut [X]),
    tile: impl Fn(&[i32], &[X], usize, [i32; PAIR_ROWS]) -> [A; PAIR_ROWS],
    requant: impl Fn(&A, f32, u8) -> B,
) {
    let k2n = w.k.div_ceil(2);
    let panels = w.cout.div_ceil(PAIR_ROWS);
    let mut xp = vec![X::default(); packed];
    for p0 in (0..p).step_by(N) {
        let n = (p - p0).min(N);
        pack(p0, n, &mut xp);
        for panel in 0..panels {
            let co0 = panel * PAIR_ROWS;
            let rows = (w.cout - co0).min(PAIR_ROWS);
            let wp = &w.pairs[panel * k2n * PAIR_ROWS..(panel + 1) * k2n * PAIR_ROWS];
            let mut bias = [0i32; PAIR_ROWS];
            bias[..rows].copy_from_slice(&rq.bias[co0..co0 + rows]);
            let acc = tile(wp, &xp, k2n, bias);
            for (r, acc) in acc.iter().enumerate().take(rows) {
                let co = co0 + r;
                let bytes = requant(acc, rq.scale[co], rq.zero);
                copy_row::<N>(&mut out[co * p + p0..co * p + p0 + n], &bytes.as_ref()[..n]);
            }
        }
    }
}

/// The NEON products' packing for [`pair_panels`]: pixels `p0..p0 + n` of `x` (`[k][p]`) as
/// `[k rounded to even][N]` bytes (the rows past k stay zero, as their weights).
#[cfg(any(
    all(target_arch = "aarch64", target_endian = "little"),
    all(target_arch = "arm", target_endian = "little", target_feature = "neon")
))]
#[inline(always)]
fn pack_rows<const N: usize>(x: &[u8], p: usize, k: usize, p0: usize, n: usize, xp: &mut [u8]) {
    for (kk, dst) in xp.chunks_exact_mut(N).enumerate().take(k) {
        copy_row::<N>(dst, &x[kk * p + p0..][..n]);
    }
}

#[cfg(all(target_arch = "aarch64", target_endian = "little"))]
mod arm {
    use super::*;
    use std::arch::aarch64::*;
    use std::arch::asm;

    pub(super) fn has_neon() -> bool {
        std::arch::is_aarch64_feature_detected!("neon")
    }

    pub(super) fn has_dotprod() -> bool {
        has_neon() && std::arch::is_aarch64_feature_detected!("dotprod")
    }

    /// Pixels per register tile of both aarch64 products (four vectors of four i32).
    const NR: usize = 16;

    /// The matrix product with NEON `smlal`: u8 inputs widened to i16 (`uxtl`), each multiplied
    /// by one i16 lane of a weight vector and accumulated into i32 (`smlal`/`smlal2` by
    /// element), exactly: the i16 × i16 product is formed in i32, never saturated.
    ///
    /// Tiles of [`PAIR_ROWS`] channels × 16 pixels in sixteen accumulators. The weights are
    /// [`GemmWeights::pairs`] (one 128-bit load holds the tile's four channels at two k); the
    /// inputs are packed one 16-pixel panel at a time (`[k rounded to even][16]` bytes), which
    /// all the channel panels then read from L1.
    ///
    /// # Safety
    /// The CPU must support NEON, and the lengths must fit the geometry as [`gemm`] asserts
    /// (`x`: `k · p`, `out`: `cout · p`, `w.pairs`: every panel, `rq`: one per channel).
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn gemm_neon(
        w: &GemmWeights,
        x: &[u8],
        p: usize,
        rq: &Requant,
        out: &mut [u8],
    ) {
        // SAFETY: pair_panels hands the tile exactly the k2n groups of PAIR_ROWS pairs and the
        // 2 · k2n rows of NR bytes it reads; NEON is enabled.
        let tile = |wp: &[i32], xp: &[u8], k2n, bias| unsafe { tile_neon(wp, xp, k2n, bias) };
        let requant = |acc: &_, scale, zero| requant_neon(acc, scale, zero);
        let pack = |p0, n, xp: &mut [u8]| pack_rows::<NR>(x, p, w.k, p0, n, xp);
        let packed = 2 * w.k.div_ceil(2) * NR;
        pair_panels::<NR, _, _, _>(w, p, rq, out, packed, pack, tile, requant);
    }

    /// One register tile of [`gemm_neon`]: `acc[r][v]` = `bias[r]` + Σ_k `w[k][r] · x[k][4v..4v + 4]`.
    ///
    /// # Panics
    /// When `w` holds fewer than `k2n · PAIR_ROWS` pairs or `x` fewer than `2 · k2n · NR` bytes.
    ///
    /// # Safety
    /// NEON must be enabled in the caller.
    #[inline(always)]
    unsafe fn tile_neon(
        w: &[i32],
        x: &[u8],
        k2n: usize,
        bias: [i32; PAIR_ROWS],
    ) -> [[int32x4_t; 4]; PAIR_ROWS] {
        assert!(
            w.len() >= k2n * PAIR_ROWS && x.len() >= 2 * k2n * NR,
            "tile_neon: lengths"
        );
        // SAFETY: the reads stay within the lengths above: 8 i16 (PAIR_ROWS pairs) of w and
        // two rows of NR bytes of x for each q < k2n.
        unsafe {
            let mut acc = bias.map(|b| [vdupq_n_s32(b); 4]);
            let (wp, xp) = (w.as_ptr() as *const i16, x.as_ptr());
            for q in 0..k2n {
                // Little-endian: channel r's weights at k = 2q, 2q + 1 are lanes 2r, 2r + 1.
                let wv = vld1q_s16(wp.add(q * 2 * PAIR_ROWS));
                let (e0, e1) = widen(vld1q_u8(xp.add(2 * q * NR)));
                let (o0, o1) = widen(vld1q_u8(xp.add((2 * q + 1) * NR)));
                mla::<0>(&mut acc[0], e0, e1, wv);
                mla::<1>(&mut acc[0], o0, o1, wv);
                mla::<2>(&mut acc[1], e0, e1, wv);
                mla::<3>(&mut acc[1], o0, o1, wv);
                mla::<4>(&mut acc[2], e0, e1, wv);
                mla::<5>(&mut acc[2], o0, o1, wv);
                mla::<6>(&mut acc[3], e0, e1, wv);
                mla::<7>(&mut acc[3], o0, o1, wv);
            }
            acc
        }
    }

    /// 16 u8 as two vectors of 8 i16 (exact: 0..=255).
    #[target_feature(enable = "neon")]
    #[inline]
    fn widen(v: uint8x16_t) -> (int16x8_t, int16x8_t) {
        (
            vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v))),
            vreinterpretq_s16_u16(vmovl_high_u8(v)),
        )
    }

    /// `acc[i] += lo/hi pixels · w[L]`, sixteen pixels widened to i32 products.
    #[target_feature(enable = "neon")]
    #[inline]
    fn mla<const L: i32>(acc: &mut [int32x4_t; 4], lo: int16x8_t, hi: int16x8_t, w: int16x8_t) {
        acc[0] = vmlal_laneq_s16::<L>(acc[0], vget_low_s16(lo), w);
        acc[1] = vmlal_high_laneq_s16::<L>(acc[1], lo, w);
        acc[2] = vmlal_laneq_s16::<L>(acc[2], vget_low_s16(hi), w);
        acc[3] = vmlal_high_laneq_s16::<L>(acc[3], hi, w);
    }

    /// `requant` of 16 accumulators (bias included), as the portable one: f32 product (no
    /// fused multiply-add), clamped to ±1024 with `fmaxnm`/`fminnm` (which, like `f32::max`,
    /// replace a NaN), rounded half to even (`fcvtns`), plus `zero`, saturated to 0..=255.
    #[target_feature(enable = "neon")]
    #[inline]
    fn requant_neon(acc: &[int32x4_t; 4], scale: f32, zero: u8) -> [u8; 16] {
        let h0 = vcombine_u16(requant4(acc[0], scale, zero), requant4(acc[1], scale, zero));
        let h1 = vcombine_u16(requant4(acc[2], scale, zero), requant4(acc[3], scale, zero));
        let mut bytes = [0u8; 16];
        // SAFETY: a 16-byte store into `bytes`.
        unsafe {
            vst1q_u8(
                bytes.as_mut_ptr(),
                vcombine_u8(vqmovn_u16(h0), vqmovn_u16(h1)),
            )
        };
        bytes
    }

    /// Four lanes of [`requant_neon`], saturated to 0..=65535 (the caller narrows to u8).
    #[target_feature(enable = "neon")]
    #[inline]
    fn requant4(acc: int32x4_t, scale: f32, zero: u8) -> uint16x4_t {
        let v = vmulq_f32(vcvtq_f32_s32(acc), vdupq_n_f32(scale));
        let v = vminnmq_f32(vmaxnmq_f32(v, vdupq_n_f32(-1024.0)), vdupq_n_f32(1024.0));
        vqmovun_s32(vaddq_s32(vcvtnq_s32_f32(v), vdupq_n_s32(i32::from(zero))))
    }

    /// The matrix product with the dot-product extension: `sdot` by element sums four
    /// i8 × i8 products into each i32 lane. The inputs are flipped to signed (`x ^ 0x80` is
    /// `x − 128`), and [`GemmWeights::flip`] (`128 · Σ_k w`) in the starting accumulator
    /// restores the u8 product: the i32 arithmetic wraps, so the sum is exact whenever the
    /// result fits i32, as the portable kernel's.
    ///
    /// Tiles of [`QUAD_ROWS`] channels × 16 pixels in sixteen accumulators: per four k, one
    /// load of [`GemmWeights::quads`] holds the tile's weights and four loads the inputs,
    /// packed one 16-pixel panel at a time as `[k/4][16][4]` bytes (`st4` interleaves four
    /// rows of k).
    ///
    /// `vdotq_laneq_s32` is unstable in Rust (`stdarch_neon_dotprod`), so `sdot` is written
    /// with `asm!`; the `dotprod` target feature and its detection are stable.
    ///
    /// # Safety
    /// The CPU must support NEON and the dot-product extension, and the lengths must fit the
    /// geometry as [`gemm`] asserts (`x`: `k · p`, `out`: `cout · p`, `w.quads` and `w.flip`
    /// built, `rq`: one per channel).
    #[target_feature(enable = "neon,dotprod")]
    pub(super) unsafe fn gemm_dot(
        w: &GemmWeights,
        x: &[u8],
        p: usize,
        rq: &Requant,
        out: &mut [u8],
    ) {
        let k4n = w.k.div_ceil(4);
        let panels = w.cout.div_ceil(QUAD_ROWS);
        let panel_len = k4n * QUAD_ROWS * 4;
        let mut xp = vec![[0u8; 4 * NR]; k4n];
        for p0 in (0..p).step_by(NR) {
            let n = (p - p0).min(NR);
            for (q, dst) in xp.iter_mut().enumerate() {
                // Rows past k are zero (flipped to -128; their weights are zero), and so are
                // lanes past n (computed, never stored).
                let mut rows = [[0u8; NR]; 4];
                for (j, row) in rows.iter_mut().enumerate() {
                    let kk = 4 * q + j;
                    if kk < w.k {
                        copy_row::<NR>(row, &x[kk * p + p0..][..n]);
                    }
                }
                interleave_flipped(&rows, dst);
            }
            for panel in 0..panels {
                let co0 = panel * QUAD_ROWS;
                let rows = (w.cout - co0).min(QUAD_ROWS);
                let wq = &w.quads[panel * panel_len..(panel + 1) * panel_len];
                let mut bias = [0i32; QUAD_ROWS];
                for (r, b) in bias.iter_mut().enumerate().take(rows) {
                    *b = rq.bias[co0 + r].wrapping_add(w.flip[co0 + r]);
                }
                // SAFETY: wq holds k4n groups of QUAD_ROWS · 4 bytes (just sliced so), all the
                // tile reads; NEON and the
                // dot-product extension are enabled.
                let acc = unsafe { tile_dot(wq, &xp, k4n, bias) };
                for (r, acc) in acc.iter().enumerate().take(rows) {
                    let co = co0 + r;
                    let bytes = requant_neon(acc, rq.scale[co], rq.zero);
                    copy_row::<NR>(&mut out[co * p + p0..co * p + p0 + n], &bytes[..n]);
                }
            }
        }
    }

    /// `dst[4i + j] = rows[j][i] ^ 0x80`: four rows of 16 inputs as 16 groups of four k,
    /// flipped to signed.
    ///
    #[target_feature(enable = "neon")]
    #[inline]
    fn interleave_flipped(rows: &[[u8; NR]; 4], dst: &mut [u8; 4 * NR]) {
        // SAFETY: four 16-byte loads from `rows` and a 64-byte store into `dst`.
        unsafe {
            let m = vdupq_n_u8(0x80);
            let v = rows.map(|r| veorq_u8(vld1q_u8(r.as_ptr()), m));
            vst4q_u8(dst.as_mut_ptr(), uint8x16x4_t(v[0], v[1], v[2], v[3]));
        }
    }

    /// One register tile of [`gemm_dot`]: `acc[r][v]` = `bias[r]` + Σ_q `sdot(x[q][4v..4v + 4],
    /// w[q][r])`.
    ///
    /// # Panics
    /// When `w` holds fewer than `k4n · QUAD_ROWS · 4` bytes or `x` fewer than `k4n` groups.
    ///
    /// # Safety
    /// NEON and the dot-product extension must be enabled in the caller.
    #[inline(always)]
    unsafe fn tile_dot(
        w: &[i8],
        x: &[[u8; 4 * NR]],
        k4n: usize,
        bias: [i32; QUAD_ROWS],
    ) -> [[int32x4_t; 4]; QUAD_ROWS] {
        assert!(
            w.len() >= k4n * QUAD_ROWS * 4 && x.len() >= k4n,
            "tile_dot: lengths"
        );
        // SAFETY: the reads stay within the lengths above: 16 bytes of w and 64 of x for
        // each q < k4n; `sdot` needs the extension, enabled in the caller.
        unsafe {
            let mut acc = bias.map(|b| [vdupq_n_s32(b); 4]);
            let (wp, xp) = (w.as_ptr(), x.as_ptr() as *const i8);
            for q in 0..k4n {
                let wv = vld1q_s8(wp.add(q * QUAD_ROWS * 4));
                let xv = [0, 1, 2, 3].map(|v| vld1q_s8(xp.add((q * 4 + v) * 16)));
                for (v, &xv) in xv.iter().enumerate() {
                    acc[0][v] = sdot::<0>(acc[0][v], xv, wv);
                    acc[1][v] = sdot::<1>(acc[1][v], xv, wv);
                    acc[2][v] = sdot::<2>(acc[2][v], xv, wv);
                    acc[3][v] = sdot::<3>(acc[3][v], xv, wv);
                }
            }
            acc
        }
    }

    /// `acc[i] += Σ_j x[4i + j] · w[4L + j]` (`sdot` by element, i8 × i8 into i32).
    ///
    /// # Safety
    /// The dot-product extension must be enabled in the caller.
    #[inline(always)]
    unsafe fn sdot<const L: i32>(acc: int32x4_t, x: int8x16_t, w: int8x16_t) -> int32x4_t {
        let mut acc = acc;
        // SAFETY: a register-only instruction, available per the caller's contract.
        unsafe {
            asm!(
                "sdot {a:v}.4s, {x:v}.16b, {w:v}.4b[{l}]",
                a = inout(vreg) acc,
                x = in(vreg) x,
                w = in(vreg) w,
                l = const L,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        acc
    }
}

#[cfg(all(target_arch = "arm", target_endian = "little", target_feature = "neon"))]
mod arm32;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::*;
    use core::arch::wasm32::*;

    /// Pixels per register tile of the SIMD128 product, in vectors of 4 i32.
    const NV: usize = 2;
    const NR: usize = 4 * NV;

    /// The matrix product with SIMD128 `i32x4.dot_i16x8_s`, as the AVX2 one: u8 inputs and i8
    /// weights widened to i16, each i32 lane a pair of consecutive k, so one instruction forms
    /// `w0·x0 + w1·x1` in i32, exactly.
    ///
    /// Tiles of [`PAIR_ROWS`] channels × [`NR`] pixels (the accumulators fit the 16 vector
    /// registers of an x86_64 engine, with the inputs and a weight), weights from
    /// [`GemmWeights::pairs`], inputs packed one panel at a time (`[k/2][NR]` pairs).
    pub(super) fn gemm_simd128(w: &GemmWeights, x: &[u8], p: usize, rq: &Requant, out: &mut [u8]) {
        let pack = |p0, n, xp: &mut [i32]| pack_pairs(x, p, w.k, p0, n, xp, NR);
        let packed = w.k.div_ceil(2) * NR;
        pair_panels::<NR, _, _, _>(w, p, rq, out, packed, pack, tile_simd128, requant_simd128);
    }

    /// One register tile: `acc[r][v]` = `bias[r]` + Σ_q `dot_i16x8(x[q][4v..4v + 4], w[q][r])`.
    ///
    /// Written out by hand, eight named accumulators: the `wasm` profile optimizes for size
    /// (opt-level "s"), at which LLVM kept loops over the tile as an array in linear memory
    /// (measured: EfficientNet-Lite0 int8 91 → 68 ms in Node once unrolled).
    ///
    /// # Panics
    /// When `w` holds fewer than `k2n · PAIR_ROWS` values or `x` fewer than `k2n · NR`.
    #[inline(always)]
    fn tile_simd128(
        w: &[i32],
        x: &[i32],
        k2n: usize,
        bias: [i32; PAIR_ROWS],
    ) -> [[v128; NV]; PAIR_ROWS] {
        const { assert!(PAIR_ROWS == 4 && NV == 2, "the tile below is 4 × 2 vectors") };
        assert!(
            w.len() >= k2n * PAIR_ROWS && x.len() >= k2n * NR,
            "tile_simd128: lengths"
        );
        let [b0, b1, b2, b3] = bias.map(|b| i32x4_splat(b));
        let (mut a00, mut a01, mut a10, mut a11) = (b0, b0, b1, b1);
        let (mut a20, mut a21, mut a30, mut a31) = (b2, b2, b3, b3);
        for (xq, wq) in x.chunks_exact(NR).zip(w.chunks_exact(PAIR_ROWS)).take(k2n) {
            // SAFETY: `xq` holds NR = 8 i32, two 16-byte loads.
            let (x0, x1) = unsafe {
                let p = xq.as_ptr() as *const v128;
                (v128_load(p), v128_load(p.add(1)))
            };
            let dot =
                |acc: v128, xv: v128, wv: i32| i32x4_add(acc, i32x4_dot_i16x8(xv, i32x4_splat(wv)));
            a00 = dot(a00, x0, wq[0]);
            a01 = dot(a01, x1, wq[0]);
            a10 = dot(a10, x0, wq[1]);
            a11 = dot(a11, x1, wq[1]);
            a20 = dot(a20, x0, wq[2]);
            a21 = dot(a21, x1, wq[2]);
            a30 = dot(a30, x0, wq[3]);
            a31 = dot(a31, x1, wq[3]);
        }
        [[a00, a01], [a10, a11], [a20, a21], [a30, a31]]
    }

    /// `requant` of `4 · NV` accumulators (bias included), as the portable one: f32 product,
    /// clamped to ±1024 with `pmax`/`pmin` ordered to replace a NaN as `f32::max` does, rounded
    /// half to even (`f32x4.nearest`), plus `zero`, saturated to 0..=255; the first `4 · NV`
    /// bytes of the result are meaningful.
    #[inline(always)]
    fn requant_simd128(acc: &[v128; NV], scale: f32, zero: u8) -> [u8; 16] {
        let s = f32x4_splat(scale);
        let (lo, hi) = (f32x4_splat(-1024.0), f32x4_splat(1024.0));
        let z = i32x4_splat(i32::from(zero));
        let one = |a: v128| {
            let v = f32x4_mul(f32x4_convert_i32x4(a), s);
            // pmax(lo, v) is `lo < v ? v : lo`: a NaN gives lo; pmin(hi, v) is `v < hi ? v : hi`.
            let v = f32x4_pmin(hi, f32x4_pmax(lo, v));
            i32x4_add(i32x4_trunc_sat_f32x4(f32x4_nearest(v)), z)
        };
        let mut halves = [i32x4_splat(0); 2];
        for (h, pair) in halves.iter_mut().zip(acc.chunks(2)) {
            let a = one(pair[0]);
            *h = i16x8_narrow_i32x4(a, pair.get(1).map_or(a, |&b| one(b)));
        }
        let mut bytes = [0u8; 16];
        // SAFETY: a 16-byte store into `bytes`.
        unsafe {
            v128_store(
                bytes.as_mut_ptr() as *mut v128,
                u8x16_narrow_i16x8(halves[0], halves[1]),
            )
        };
        bytes
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

    /// `requant(Σ_k w·x + bias)` computed directly, in i64 (asserted to fit i32).
    fn definition(w: &GemmWeights, x: &[u8], p: usize, rq: &Requant) -> Vec<u8> {
        let (k, zero) = (w.k, i32::from(rq.zero));
        let mut out = vec![0; w.cout * p];
        for co in 0..w.cout {
            for i in 0..p {
                let acc: i64 = (0..k)
                    .map(|kk| i64::from(w.plain[co * k + kk]) * i64::from(x[kk * p + i]))
                    .sum::<i64>()
                    + i64::from(rq.bias[co]);
                let acc = i32::try_from(acc).unwrap();
                out[co * p + i] = requant(acc, rq.scale[co], zero);
            }
        }
        out
    }

    fn supported() -> Vec<Isa> {
        Isa::all()
            .iter()
            .copied()
            .filter(|i| i.supported())
            .collect()
    }

    /// Every supported instruction set, forced, gives the definition's bits (and so the
    /// portable kernel's) on odd sizes: tails of channels, pixels and k everywhere.
    #[test]
    fn gemm_every_isa_matches_the_definition() {
        let mut seed = 7;
        for (cout, k, p) in [
            (8, 16, 32),
            (13, 27, 49),
            (1, 1, 1),
            (24, 96, 196),
            (9, 5, 17),
            (5, 3, 15),
            (7, 2, 33),
            (3, 1, 7),
            (17, 33, 100),
            (40, 144, 49),
        ] {
            let plain: Vec<i8> = (0..cout * k).map(|_| lcg(&mut seed) as i8).collect();
            let x: Vec<u8> = (0..k * p).map(|_| lcg(&mut seed) as u8).collect();
            let w = GemmWeights::new(cout, k, plain);
            let rq = Requant {
                bias: (0..cout).map(|i| i as i32 * 97 - 300).collect(),
                scale: (0..cout).map(|i| 0.0007 + i as f32 * 1e-5).collect(),
                zero: 3,
            };
            let expected = definition(&w, &x, p, &rq);
            let mut portable = vec![0; cout * p];
            gemm_portable(&w, &x, p, &rq, &mut portable);
            assert_eq!(
                portable, expected,
                "unforced portable, cout {cout} k {k} p {p}"
            );
            for isa in supported() {
                let mut got = vec![0xAA; cout * p];
                gemm(isa, &w, &x, p, &rq, &mut got);
                assert_eq!(got, expected, "{isa}: cout {cout} k {k} p {p}");
            }
        }
    }

    /// The products that overflow a saturating i16 pair sum (`vpmaddubsw`): weights −128 and
    /// 127 against inputs 255 and 0, over reductions long enough (k = 4096) to overflow any
    /// i16 partial sum. The bias cancels the exact sum and the scale is 1, so an error of one
    /// in any accumulator changes the output.
    #[test]
    fn gemm_is_exact_at_the_extremes() {
        let mut seed = 3;
        for (cout, k, p) in [(6, 4096, 19), (9, 4095, 8), (4, 2, 16), (3, 1023, 33)] {
            for pattern in 0..4 {
                let plain: Vec<i8> = (0..cout * k)
                    .map(|i| match pattern {
                        0 => -128,
                        1 => 127,
                        2 => [-128, 127][i % 2],
                        _ => [-128, 127][(lcg(&mut seed) & 1) as usize],
                    })
                    .collect();
                let x: Vec<u8> = (0..k * p)
                    .map(|i| match pattern {
                        0 | 1 => 255,
                        2 => [255, 255, 0][i % 3],
                        _ => [0, 255][(lcg(&mut seed) & 1) as usize],
                    })
                    .collect();
                let w = GemmWeights::new(cout, k, plain);
                // The exact sum of each channel's first pixel, cancelled by the bias.
                let bias = (0..cout)
                    .map(|co| {
                        let sum: i64 = (0..k)
                            .map(|kk| i64::from(w.plain[co * k + kk]) * i64::from(x[kk * p]))
                            .sum();
                        i32::try_from(-sum).unwrap() + co as i32
                    })
                    .collect();
                let rq = Requant {
                    bias,
                    scale: vec![1.0; cout],
                    zero: 100,
                };
                let expected = definition(&w, &x, p, &rq);
                for co in 0..cout {
                    assert_eq!(expected[co * p], 100 + co as u8);
                }
                for isa in supported() {
                    let mut got = vec![0; cout * p];
                    gemm(isa, &w, &x, p, &rq, &mut got);
                    assert_eq!(
                        got, expected,
                        "{isa}: pattern {pattern} cout {cout} k {k} p {p}"
                    );
                }
            }
        }
    }

    /// Requantization edges agree too: outputs clamped at 0 and 255, ties, a NaN scale.
    #[test]
    fn gemm_requantization_edges_agree() {
        let (cout, k, p) = (8, 3, 21);
        let plain: Vec<i8> = (0..cout * k).map(|i| (i as i8).wrapping_mul(37)).collect();
        let x: Vec<u8> = (0..k * p).map(|i| (i * 61) as u8).collect();
        let w = GemmWeights::new(cout, k, plain);
        let rq = Requant {
            bias: vec![0, 1, -1, 1 << 20, -(1 << 20), 7, 0, 0],
            scale: vec![0.5, 0.5, 1.5, 1.0, 1.0, f32::NAN, f32::INFINITY, -0.25],
            zero: 128,
        };
        let expected = definition(&w, &x, p, &rq);
        for isa in supported() {
            let mut got = vec![0; cout * p];
            gemm(isa, &w, &x, p, &rq, &mut got);
            assert_eq!(got, expected, "{isa}");
        }
    }

    /// Rounding and clamping agree over every accumulator from −1400 to 1400 (k = 1, w = 1,
    /// x = 0..=255, eleven biases): ties at scales 0.5, −0.5 and 1.5 (half to even, both signs),
    /// products past ±1024 and infinite ones, and scales and products below f32's normal range
    /// (ARMv7 NEON flushes them to zero; the exact result rounds to 0 too), and −0.
    #[test]
    fn gemm_requantization_rounds_as_the_definition() {
        let x: Vec<u8> = (0..=255).collect();
        let p = x.len();
        for scale in [
            0.5,
            -0.5,
            1.5,
            0.25,
            4.0,
            1e-40,
            -1e-40,
            f32::MIN_POSITIVE,
            1e-3,
            1e30,
            -1e30,
            -0.0,
        ] {
            for zero in [0, 128, 255] {
                let biases: Vec<i32> = (-1400..=1400).step_by(280).collect();
                let cout = biases.len();
                let w = GemmWeights::new(cout, 1, vec![1; cout]);
                let rq = Requant {
                    bias: biases,
                    scale: vec![scale; cout],
                    zero,
                };
                let expected = definition(&w, &x, p, &rq);
                for isa in supported() {
                    let mut got = vec![0; cout * p];
                    gemm(isa, &w, &x, p, &rq, &mut got);
                    assert_eq!(got, expected, "{isa}: scale {scale} zero {zero}");
                }
            }
        }
    }

    #[test]
    fn isa_names_parse_back_and_detection_is_supported() {
        for &isa in Isa::all() {
            assert_eq!(Isa::parse(isa.name()), Some(isa));
            assert_eq!(Isa::parse(&isa.name().to_uppercase()), Some(isa));
        }
        assert_eq!(Isa::parse("sse2"), None);
        assert!(Isa::Portable.supported());
        assert!(Isa::detect().supported());
        assert_eq!(
            fast_gemm(),
            int8_gemm_worthwhile(Isa::detect()).then(|| Isa::detect().name())
        );
        assert!(!int8_gemm_worthwhile(Isa::Portable));
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            assert!(Isa::Avx2.supported() && int8_gemm_worthwhile(Isa::Avx2));
        }
        #[cfg(all(target_arch = "aarch64", target_endian = "little"))]
        {
            let dot = std::arch::is_aarch64_feature_detected!("dotprod");
            assert!(Isa::Neon.supported() && int8_gemm_worthwhile(Isa::Neon));
            assert_eq!(Isa::NeonDot.supported(), dot);
            let best = if dot { Isa::NeonDot } else { Isa::Neon };
            assert_eq!(Isa::detect(), best);
        }
        #[cfg(all(target_arch = "arm", target_endian = "little", target_feature = "neon"))]
        {
            assert!(Isa::Neon.supported() && int8_gemm_worthwhile(Isa::Neon));
            assert_eq!(Isa::detect(), Isa::Neon);
        }
        #[cfg(all(
            target_arch = "arm",
            not(all(target_endian = "little", target_feature = "neon"))
        ))]
        assert_eq!(Isa::detect(), Isa::Portable);
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        assert_eq!(Isa::detect(), Isa::Simd128);
        // Which instruction sets the tests here exercise (shown with `--nocapture`).
        eprintln!("supported: {:?}, detected: {}", supported(), Isa::detect());
    }

    /// Forcing an instruction set the CPU lacks panics (never undefined behaviour).
    #[test]
    #[cfg_attr(panic = "abort", ignore = "catching the panic needs unwinding")]
    fn forcing_an_unsupported_isa_panics() {
        let isa = Isa::all().iter().copied().find(|i| !i.supported()).unwrap();
        let w = GemmWeights::new(1, 1, vec![1]);
        let rq = Requant {
            bias: vec![0],
            scale: vec![1.0],
            zero: 0,
        };
        let result = std::panic::catch_unwind(|| gemm(isa, &w, &[1], 1, &rq, &mut [0]));
        assert!(result.is_err(), "{isa}");
    }

    /// Buffers that do not fit the geometry are refused by an assertion in the safe entry point
    /// (issue 14: the lengths were only `debug_assert`ed before the SIMD code wrote through raw
    /// pointers), on every instruction set, in release builds too.
    #[test]
    #[cfg_attr(panic = "abort", ignore = "catching the panic needs unwinding")]
    fn gemm_refuses_buffers_that_do_not_fit() {
        let w = GemmWeights::new(2, 3, vec![1; 6]);
        let rq = Requant {
            bias: vec![0; 2],
            scale: vec![1.0; 2],
            zero: 0,
        };
        let short_rq = Requant {
            bias: vec![0],
            scale: vec![1.0],
            zero: 0,
        };
        for isa in Isa::all().iter().copied().filter(|i| i.supported()) {
            let run = |x: Vec<u8>, out_len: usize, rq: &Requant| {
                let mut out = vec![0u8; out_len];
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    gemm(isa, &w, &x, 4, rq, &mut out)
                }))
                .is_err()
            };
            assert!(!run(vec![0; 12], 8, &rq), "{isa}: the right sizes run");
            assert!(run(vec![0; 11], 8, &rq), "{isa}: short input");
            assert!(run(vec![0; 12], 7, &rq), "{isa}: short output");
            assert!(
                run(vec![0; 12], 8, &short_rq),
                "{isa}: one requantization too few"
            );
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
            let (oh, ow) = (win.out_h(), win.out_w());
            // Stale contents (a reused buffer) must not show through the padding.
            let mut col = vec![0xab; c * k * k * oh * ow];
            for (plane, dst) in x
                .chunks_exact(h * wd)
                .zip(col.chunks_exact_mut(k * k * oh * ow))
            {
                im2col_plane(plane, &win, 77, dst);
            }
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

    /// `(bias + Σ_taps w · (x − x_zero))` for every output, directly (padding reads nothing).
    fn depthwise_sums(
        win: &Window,
        c: usize,
        x: &[u8],
        x_zero: u8,
        w: &[i8],
        bias: &[i32],
    ) -> Vec<i32> {
        let (oh, ow, (kh, kw)) = (win.out_h(), win.out_w(), (win.kh, win.kw));
        let mut sums = Vec::with_capacity(c * oh * ow);
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bias[ch];
                    for ky in 0..kh {
                        for kx in 0..kw {
                            if let Some(at) = source(win, (oy, ox), (ky, kx)) {
                                let v = i32::from(x[ch * win.h * win.w + at]) - i32::from(x_zero);
                                acc += v * i32::from(w[(ch * kh + ky) * kw + kx]);
                            }
                        }
                    }
                    sums.push(acc);
                }
            }
        }
        sums
    }

    /// Checks every supported instruction set, forced, and the unfused portable kernel (the
    /// wasm and armv7 builds) against the integer definition, quantized and float ends.
    fn check_depthwise(
        win: &Window,
        c: usize,
        x: &[u8],
        x_zero: u8,
        w: &[i8],
        rq: &Requant,
        what: &str,
    ) {
        let (oh, ow) = (win.out_h(), win.out_w());
        let sums = depthwise_sums(win, c, x, x_zero, w, &rq.bias);
        let expected: Vec<u8> = sums
            .iter()
            .enumerate()
            .map(|(i, &s)| requant(s, rq.scale[i / (oh * ow)], i32::from(rq.zero)))
            .collect();
        let wf: Vec<f32> = w.iter().map(|&v| f32::from(v)).collect();
        let ends = QuantEnds { x_zero, rq };
        let mut unfused = vec![0xAA; c * oh * ow];
        depthwise_portable::<false, false, _, _>(
            Plain::<false>,
            x,
            c,
            win,
            &wf,
            &ends,
            &mut unfused,
        );
        assert_eq!(unfused, expected, "unfused portable: {what}");
        depthwise_portable::<false, true, _, _>(
            Plain::<false>,
            x,
            c,
            win,
            &wf,
            &ends,
            &mut unfused,
        );
        assert_eq!(
            unfused, expected,
            "unfused portable, one loop over the taps: {what}"
        );
        // Float ends: the same sums, plus a float bias, unquantized (exact: integers below
        // 2^24).
        let xf: Vec<f32> = x
            .iter()
            .map(|&v| f32::from(v) - f32::from(x_zero))
            .collect();
        let bias: Vec<f32> = rq.bias.iter().map(|&b| b as f32).collect();
        let float_expected: Vec<f32> = sums.iter().map(|&s| s as f32).collect();
        for isa in supported() {
            let mut got = vec![0xAA; c * oh * ow];
            depthwise(isa, x, c, win, &wf, &ends, &mut got);
            assert_eq!(got, expected, "{isa}: {what}");
            let mut float = vec![f32::NAN; c * oh * ow];
            depthwise(
                isa,
                &xf,
                c,
                win,
                &wf,
                &FloatEnds { bias: &bias },
                &mut float,
            );
            // A bias beyond 2^24 is not an exact f32: the float sum rounds.
            if rq.bias.iter().all(|b| b.unsigned_abs() <= FLOAT_BIAS) {
                assert_eq!(float, float_expected, "{isa} float: {what}");
            }
        }
    }

    /// Random planes over the geometries EfficientNet and MobileNet use and odd ones: 3×3 and
    /// 5×5, strides 1 and 2 (and 3, and unequal), symmetric and asymmetric padding, planes from
    /// 1×1 up, many channels.
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
            (3, 56, 56, 5, 2, [1, 1, 2, 2]),
            (2, 57, 31, 3, 2, [1, 0, 1, 2]),
            (40, 7, 7, 3, 1, [1, 1, 1, 1]),
            (37, 14, 14, 5, 2, [1, 2, 2, 1]),
            (9, 1, 1, 3, 1, [1, 1, 1, 1]),
            (9, 1, 1, 5, 1, [2, 2, 2, 2]),
            (6, 1, 1, 1, 1, [0, 0, 0, 0]),
            (4, 13, 10, 3, 3, [0, 2, 1, 0]),
            (3, 40, 70, 5, 1, [0, 0, 0, 0]),
            (2, 70, 33, 3, 1, [2, 0, 0, 2]),
        ] {
            let win = square(h, wd, k, s, pad);
            let x: Vec<u8> = (0..c * h * wd).map(|_| lcg(&mut seed) as u8).collect();
            let w: Vec<i8> = (0..c * k * k).map(|_| lcg(&mut seed) as i8).collect();
            let rq = Requant {
                bias: (0..c).map(|i| 50 - 7 * i as i32).collect(),
                scale: (0..c).map(|i| 0.002 + 1e-5 * i as f32).collect(),
                zero: 128,
            };
            let what = format!("c {c} {h}×{wd} k {k} s {s} pad {pad:?}");
            check_depthwise(&win, c, &x, 9, &w, &rq, &what);
        }
        // Unequal strides and kernel sides.
        let win = Window {
            h: 9,
            w: 12,
            kh: 3,
            kw: 5,
            stride: (2, 1),
            pad: [1, 2, 1, 2],
        };
        let x: Vec<u8> = (0..4 * 9 * 12).map(|_| lcg(&mut seed) as u8).collect();
        let w: Vec<i8> = (0..4 * 15).map(|_| lcg(&mut seed) as i8).collect();
        let rq = Requant {
            bias: vec![-3; 4],
            scale: vec![0.004; 4],
            zero: 7,
        };
        check_depthwise(&win, 4, &x, 200, &w, &rq, "3×5 stride (2, 1)");
    }

    /// The largest products at the largest windows: inputs 0 and 255 with zero points 0 and
    /// 255, weights −128 and 127, 5×5 windows (and the largest window, DW_MAX_TAPS taps); the
    /// bias cancels the first output's exact sum and the scale is 1, so an error of one in a
    /// sum changes an output.
    #[test]
    fn depthwise_is_exact_at_the_extremes() {
        let mut seed = 5;
        for (c, side, k, s, pad) in [
            (8, 7, 5, 1, [2, 2, 2, 2]),
            (5, 14, 5, 2, [1, 1, 2, 2]),
            (3, 1, 5, 1, [2, 2, 2, 2]),
            (2, 16, 16, 1, [0, 0, 0, 0]),
            (3, 12, 3, 1, [1, 1, 1, 1]),
            (3, 24, 3, 2, [0, 0, 1, 1]),
            (2, 28, 5, 2, [1, 1, 2, 2]),
        ] {
            let win = square(side, side, k, s, pad);
            for (pattern, x_zero) in [(0, 0), (1, 255), (2, 0), (3, 255), (4, 0), (5, 255)] {
                let x: Vec<u8> = (0..c * side * side)
                    .map(|i| match pattern {
                        0 => 255,
                        1 => 0,
                        2 | 3 => [255, 0][i % 2],
                        _ => [0, 255][(lcg(&mut seed) & 1) as usize],
                    })
                    .collect();
                let w: Vec<i8> = (0..c * k * k)
                    .map(|i| match pattern % 3 {
                        0 => -128,
                        1 => 127,
                        _ => [-128, 127][(lcg(&mut seed) & 1) as usize ^ (i & 1)],
                    })
                    .collect();
                let zeros = vec![0; c];
                let first = depthwise_sums(&win, c, &x, x_zero, &w, &zeros);
                let (oh, ow) = (win.out_h(), win.out_w());
                let rq = Requant {
                    bias: (0..c).map(|ch| ch as i32 - first[ch * oh * ow]).collect(),
                    scale: vec![1.0; c],
                    zero: 100,
                };
                let sums = depthwise_sums(&win, c, &x, x_zero, &w, &rq.bias);
                for ch in 0..c {
                    assert_eq!(sums[ch * oh * ow], ch as i32);
                }
                let what = format!("pattern {pattern} x_zero {x_zero} c {c} {side}² k {k} s {s}");
                check_depthwise(&win, c, &x, x_zero, &w, &rq, &what);
            }
        }
    }

    /// Biases beyond ±2^24, which the f32 requantization cannot hold exactly, take the i32
    /// one, on every window (the unrolled 3×3 and 5×5 ones and the rest, planar and small).
    #[test]
    fn depthwise_requantizes_a_large_bias_exactly() {
        let mut seed = 23;
        for (c, side, k, s, pad) in [
            (3, 12, 3, 1, [1, 1, 1, 1]),
            (3, 24, 3, 2, [0, 0, 1, 1]),
            (2, 16, 5, 1, [2, 2, 2, 2]),
            (2, 28, 5, 2, [1, 1, 2, 2]),
            (17, 7, 5, 1, [2, 2, 2, 2]),
            (3, 20, 7, 1, [3, 3, 3, 3]),
        ] {
            let win = square(side, side, k, s, pad);
            let x: Vec<u8> = (0..c * side * side).map(|_| lcg(&mut seed) as u8).collect();
            let w: Vec<i8> = (0..c * k * k).map(|_| lcg(&mut seed) as i8).collect();
            // (acc + bias) · scale lands within the output range, around 50 ± a few.
            let rq = Requant {
                bias: (0..c)
                    .map(|i| [40_000_017, -30_000_003, (1 << 24) + 1][i % 3])
                    .collect(),
                scale: (0..c).map(|i| [1.1e-6, -1.5e-6, 3e-6][i % 3]).collect(),
                zero: 7,
            };
            let what = format!("large bias, c {c} {side}² k {k} s {s}");
            check_depthwise(&win, c, &x, 131, &w, &rq, &what);
            // Every sum 2 + (2^25 + 1): exact, 2^25 + 3 rounds to the f32 2^25 + 4, and times
            // this scale to 100.500008 (101); with the bias rounded to f32 first (2^25), 2 +
            // 2^25 rounds to 2^25, and 100.499992 (100). One input of 1, zero point 0, the
            // centre weight 2.
            let x = vec![1; c * side * side];
            let w: Vec<i8> = (0..c * k * k)
                .map(|i| if i % (k * k) == k * k / 2 { 2 } else { 0 })
                .collect();
            let rq = Requant {
                bias: vec![(1 << 25) + 1; c],
                scale: vec![2.995_133_2e-6; c],
                zero: 7,
            };
            let what = format!("double rounding, c {c} {side}² k {k} s {s}");
            check_depthwise(&win, c, &x, 0, &w, &rq, &what);
        }
    }

    /// Forcing an instruction set the CPU lacks panics in the depthwise kernel too.
    #[test]
    #[cfg_attr(panic = "abort", ignore = "catching the panic needs unwinding")]
    fn depthwise_refuses_an_unsupported_isa() {
        let isa = Isa::all().iter().copied().find(|i| !i.supported()).unwrap();
        let win = square(1, 1, 1, 1, [0; 4]);
        let rq = Requant {
            bias: vec![0],
            scale: vec![1.0],
            zero: 0,
        };
        let ends = QuantEnds { x_zero: 0, rq: &rq };
        let result =
            std::panic::catch_unwind(|| depthwise(isa, &[1u8], 1, &win, &[1.0], &ends, &mut [0]));
        assert!(result.is_err(), "{isa}");
    }
}

#[cfg(test)]
mod dw_bench {
    use super::*;

    /// EfficientNet-Lite0's depthwise layers (224×224 input): channels, plane side, kernel
    /// side, stride, padding (top, left, bottom, right), how many.
    pub(super) const EFFICIENTNET_LITE0: [(usize, usize, usize, usize, [usize; 4], usize); 12] = [
        (32, 112, 3, 1, [1, 1, 1, 1], 1),
        (96, 112, 3, 2, [0, 0, 1, 1], 1),
        (144, 56, 3, 1, [1, 1, 1, 1], 1),
        (144, 56, 5, 2, [1, 1, 2, 2], 1),
        (240, 28, 5, 1, [2, 2, 2, 2], 1),
        (240, 28, 3, 2, [0, 0, 1, 1], 1),
        (480, 14, 3, 1, [1, 1, 1, 1], 2),
        (480, 14, 5, 1, [2, 2, 2, 2], 1),
        (672, 14, 5, 1, [2, 2, 2, 2], 2),
        (672, 14, 5, 2, [1, 1, 2, 2], 1),
        (1152, 7, 5, 1, [2, 2, 2, 2], 3),
        (1152, 7, 3, 1, [1, 1, 1, 1], 1),
    ];

    /// Times the depthwise kernel on EfficientNet-Lite0's layers, per instruction set:
    /// `cargo test --release -p ledge depthwise_speed -- --ignored --nocapture`.
    /// `LEDGE_ISA=NAME` times one instruction set, `LEDGE_DW_LAYER=I` one layer (its index in
    /// [`EFFICIENTNET_LITE0`]) a hundred times longer (for a profiler).
    #[test]
    #[ignore = "a benchmark"]
    fn depthwise_speed() {
        let isas: Vec<Isa> = Isa::all()
            .iter()
            .copied()
            .filter(|i| i.supported())
            .filter(|i| std::env::var("LEDGE_ISA").map_or(true, |n| n == i.name()))
            .collect();
        let layer: Option<usize> = std::env::var("LEDGE_DW_LAYER")
            .ok()
            .map(|v| v.parse().expect("LEDGE_DW_LAYER is a layer index"));
        for isa in isas {
            let mut total_ms = 0.0;
            let mut total_macs = 0.0;
            for (i, &(c, side, k, s, pad, count)) in EFFICIENTNET_LITE0.iter().enumerate() {
                if layer.is_some_and(|l| l != i) {
                    continue;
                }
                let win = Window {
                    h: side,
                    w: side,
                    kh: k,
                    kw: k,
                    stride: (s, s),
                    pad,
                };
                let (oh, ow) = (win.out_h(), win.out_w());
                let x: Vec<u8> = (0..c * side * side).map(|i| (i * 7 % 251) as u8).collect();
                let w: Vec<f32> = (0..c * k * k)
                    .map(|i| ((i * 13 % 255) as i32 - 128) as f32)
                    .collect();
                let rq = Requant {
                    bias: vec![5; c],
                    scale: vec![0.001; c],
                    zero: 3,
                };
                let ends = QuantEnds { x_zero: 7, rq: &rq };
                let mut out = vec![0u8; c * oh * ow];
                let run = |out: &mut [u8]| depthwise(isa, &x, c, &win, &w, &ends, out);
                let mut times = vec![];
                for _ in 0..if layer.is_some() { 3001 } else { 31 } {
                    let t = std::time::Instant::now();
                    run(&mut out);
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                }
                times.sort_by(f64::total_cmp);
                let ms = times[times.len() / 2];
                let macs = (c * oh * ow * k * k) as f64;
                eprintln!(
                    "{:10} c {c:4} {side:3}² k{k} s{s}: {ms:7.3} ms {:6.2} GMAC/s",
                    isa.name(),
                    macs / ms / 1e6
                );
                total_ms += ms * count as f64;
                total_macs += macs * count as f64;
            }
            eprintln!(
                "{:10} total {total_ms:.3} ms, {:.2} GMAC/s",
                isa.name(),
                total_macs / total_ms / 1e6
            );
        }
    }
}
