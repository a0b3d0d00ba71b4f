/**
 * Dense host linear algebra in float64, column-major: thin Householder QR, one-sided Jacobi SVD and the
 * eigenvalues of a general (non-symmetric) matrix (used by `FactoredMatrix`). The symmetric eigensolver
 * (`eigen.ts`) and Cholesky (`cholesky.ts`) of the regression code live beside it: `lib/math/` is the one
 * home of dense linear algebra.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * Thin Householder QR of `x [m, p]` (column-major): `Q [m, t]`, `R [t, p]` (column-major), t = min(m, p).
 */
export function householderQr(x: Float64Array, m: number, p: number): { q: Float64Array; r: Float64Array; t: number } {
  const t = Math.min(m, p);
  const a = Float64Array.from(x);
  const vs: (Float64Array | null)[] = [];
  for (let k = 0; k < t; k++) {
    const col = k * m;
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[col + i]! * a[col + i]!;
    norm = Math.sqrt(norm);
    if (norm === 0) {
      vs.push(null);
      continue;
    }
    const alpha = a[col + k]! > 0 ? -norm : norm;
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = a[col + i]!;
    v[0]! -= alpha;
    let vn = 0;
    for (let i = 0; i < v.length; i++) vn += v[i]! * v[i]!;
    if (vn === 0) {
      vs.push(null);
      continue;
    }
    for (let i = 0; i < v.length; i++) v[i]! /= Math.sqrt(vn);
    for (let j = k; j < p; j++) {
      const c = j * m;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * a[c + k + i]!;
      s *= 2;
      for (let i = 0; i < v.length; i++) a[c + k + i]! -= s * v[i]!;
    }
    vs.push(v);
  }
  const r = new Float64Array(t * p);
  for (let j = 0; j < p; j++) for (let i = 0; i <= Math.min(j, t - 1); i++) r[j * t + i] = a[j * m + i]!;
  const q = new Float64Array(m * t);
  for (let j = 0; j < t; j++) q[j * m + j] = 1;
  for (let k = t - 1; k >= 0; k--) {
    const v = vs[k];
    if (!v) continue;
    for (let j = 0; j < t; j++) {
      const c = j * m;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * q[c + k + i]!;
      s *= 2;
      for (let i = 0; i < v.length; i++) q[c + k + i]! -= s * v[i]!;
    }
  }
  return { q, r, t };
}

/** Applies the plane rotation (c, s) to the columns of `len` values starting at `p` and `q` of `x`, in place. */
function rotateColumns(x: Float64Array, p: number, q: number, len: number, c: number, s: number): void {
  for (let k = 0; k < len; k++) {
    const a = x[p + k]!;
    const b = x[q + k]!;
    x[p + k] = c * a - s * b;
    x[q + k] = s * a + c * b;
  }
}

/**
 * Thin SVD of `x [m, n]` (column-major) by one-sided Jacobi (Hestenes) rotations:
 * `u [m, r]`, `s [r]` descending, `v [n, r]` (column-major), r = min(m, n); `x = u diag(s) vᵀ`.
 */
export function jacobiSvd(x: Float64Array, m: number, n: number): { u: Float64Array; s: Float64Array; v: Float64Array } {
  if (m < n) {
    const xt = new Float64Array(n * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xt[i * n + j] = x[j * m + i]!;
    const t = jacobiSvd(xt, n, m);
    return { u: t.v, s: t.s, v: t.u };
  }
  const u = Float64Array.from(x);
  const v = new Float64Array(n * n);
  for (let j = 0; j < n; j++) v[j * n + j] = 1;
  const eps = 1e-15;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let i = 0; i < n - 1; i++) {
      for (let j = i + 1; j < n; j++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        const ci = i * m;
        const cj = j * m;
        for (let k = 0; k < m; k++) {
          const a = u[ci + k]!;
          const b = u[cj + k]!;
          alpha += a * a;
          beta += b * b;
          gamma += a * b;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotateColumns(u, ci, cj, m, c, s);
        rotateColumns(v, i * n, j * n, n, c, s);
      }
    }
    if (!rotated) break;
  }
  const sv = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < m; k++) s += u[j * m + k]! * u[j * m + k]!;
    sv[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => sv[b]! - sv[a]! || a - b);
  const uo = new Float64Array(m * n);
  const vo = new Float64Array(n * n);
  const so = new Float64Array(n);
  const tiny = (sv[order[0]!] ?? 0) * 1e-13;
  order.forEach((j, x) => {
    so[x] = sv[j]!;
    for (let k = 0; k < n; k++) vo[x * n + k] = v[j * n + k]!;
    if (sv[j]! > tiny && sv[j]! > 0) for (let k = 0; k < m; k++) uo[x * m + k] = u[j * m + k]! / sv[j]!;
  });
  completeOrthonormal(uo, m, n, so, tiny);
  return { u: uo, s: so, v: vo };
}

/** Replaces the columns of `u` whose singular value is (near) zero by unit vectors orthogonal to the rest. */
function completeOrthonormal(u: Float64Array, m: number, n: number, s: Float64Array, tiny: number): void {
  let candidate = 0;
  for (let x = 0; x < n; x++) {
    if (s[x]! > tiny && s[x]! > 0) continue;
    for (; candidate < m; candidate++) {
      const w = new Float64Array(m);
      w[candidate] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let y = 0; y < n; y++) {
          if (y === x || (s[y]! <= tiny && y > x)) continue;
          let d = 0;
          for (let k = 0; k < m; k++) d += u[y * m + k]! * w[k]!;
          for (let k = 0; k < m; k++) w[k]! -= d * u[y * m + k]!;
        }
      }
      let nrm = 0;
      for (let k = 0; k < m; k++) nrm += w[k]! * w[k]!;
      nrm = Math.sqrt(nrm);
      if (nrm > 0.5) {
        for (let k = 0; k < m; k++) u[x * m + k] = w[k]! / nrm;
        candidate++;
        break;
      }
    }
    s[x] = Math.max(s[x]!, 0);
  }
}

/**
 * Eigenvalues of a real square matrix `a [n, n]` (row-major; overwritten copy): Householder reduction to
 * upper Hessenberg form, then the Francis double-shift QR iteration with deflation (EISPACK `hqr`).
 * Sorted by descending modulus, then real part, then imaginary part.
 */
export function eigenvaluesGeneral(input: Float64Array, n: number): { re: Float64Array; im: Float64Array } {
  const a = Float64Array.from(input);
  const at = (i: number, j: number) => a[i * n + j]!;
  const set = (i: number, j: number, v: number) => {
    a[i * n + j] = v;
  };
  // Hessenberg reduction with Householder reflectors (similarity transforms).
  for (let k = 0; k < n - 2; k++) {
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += at(i, k) ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = at(k + 1, k) > 0 ? -norm : norm;
    const v = new Float64Array(n - k - 1);
    for (let i = k + 1; i < n; i++) v[i - k - 1] = at(i, k);
    v[0]! -= alpha;
    let vn = 0;
    for (const x of v) vn += x * x;
    if (vn === 0) continue;
    vn = Math.sqrt(vn);
    for (let i = 0; i < v.length; i++) v[i]! /= vn;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * at(k + 1 + i, j);
      for (let i = 0; i < v.length; i++) set(k + 1 + i, j, at(k + 1 + i, j) - 2 * s * v[i]!);
    }
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < v.length; j++) s += at(i, k + 1 + j) * v[j]!;
      for (let j = 0; j < v.length; j++) set(i, k + 1 + j, at(i, k + 1 + j) - 2 * s * v[j]!);
    }
    for (let i = k + 2; i < n; i++) set(i, k, 0);
  }
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  let anorm = 0;
  for (let i = 0; i < n; i++) for (let j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(at(i, j));
  const sign = (x: number, y: number) => (y >= 0 ? Math.abs(x) : -Math.abs(x));
  let nn = n - 1;
  let t = 0;
  let p = 0;
  let q = 0;
  let r = 0;
  let s = 0;
  let w = 0;
  let x = 0;
  let y = 0;
  let z = 0;
  while (nn >= 0) {
    let its = 0;
    let l: number;
    do {
      for (l = nn; l >= 1; l--) {
        s = Math.abs(at(l - 1, l - 1)) + Math.abs(at(l, l));
        if (s === 0) s = anorm;
        if (Math.abs(at(l, l - 1)) + s === s) {
          set(l, l - 1, 0);
          break;
        }
      }
      x = at(nn, nn);
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn] = 0;
        nn--;
      } else {
        y = at(nn - 1, nn - 1);
        w = at(nn, nn - 1) * at(nn - 1, nn);
        if (l === nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z !== 0) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn] = z;
            wi[nn - 1] = -z;
          }
          nn -= 2;
        } else {
          if (its === 60) throw new InvalidArgumentError('eigenvalues: the QR iteration did not converge');
          if (its === 10 || its === 20 || its === 40) {
            t += x;
            for (let i = 0; i <= nn; i++) set(i, i, at(i, i) - x);
            s = Math.abs(at(nn, nn - 1)) + Math.abs(at(nn - 1, nn - 2));
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          its++;
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = at(m, m);
            r = x - z;
            s = y - z;
            p = (r * s - w) / at(m + 1, m) + at(m, m + 1);
            q = at(m + 1, m + 1) - z - r - s;
            r = at(m + 2, m + 1);
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(at(m, m - 1)) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(at(m - 1, m - 1)) + Math.abs(z) + Math.abs(at(m + 1, m + 1)));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            set(i, i - 2, 0);
            if (i !== m + 2) set(i, i - 3, 0);
          }
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = at(k, k - 1);
              q = at(k + 1, k - 1);
              r = 0;
              if (k !== nn - 1) r = at(k + 2, k - 1);
              x = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (x !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            s = sign(Math.sqrt(p * p + q * q + r * r), p);
            if (s !== 0) {
              if (k === m) {
                if (l !== m) set(k, k - 1, -at(k, k - 1));
              } else {
                set(k, k - 1, -s * x);
              }
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) {
                p = at(k, j) + q * at(k + 1, j);
                if (k !== nn - 1) {
                  p += r * at(k + 2, j);
                  set(k + 2, j, at(k + 2, j) - p * z);
                }
                set(k + 1, j, at(k + 1, j) - p * y);
                set(k, j, at(k, j) - p * x);
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) {
                p = x * at(i, k) + y * at(i, k + 1);
                if (k !== nn - 1) {
                  p += z * at(i, k + 2);
                  set(i, k + 2, at(i, k + 2) - p * r);
                }
                set(i, k + 1, at(i, k + 1) - p * q);
                set(i, k, at(i, k) - p);
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => Math.hypot(wr[j]!, wi[j]!) - Math.hypot(wr[i]!, wi[i]!) || wr[j]! - wr[i]! || wi[j]! - wi[i]!);
  return { re: Float64Array.from(order.map((i) => wr[i]!)), im: Float64Array.from(order.map((i) => wi[i]!)) };
}
