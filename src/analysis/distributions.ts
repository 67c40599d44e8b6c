// The normal and Student's t cumulative distributions, accurate far into the tails: p-values of
// 1e-20 must stay apart from 1e-10, because the change-point scan keeps the split with the smallest.
// jStat (the maintained library) is reached only here, typed here since it ships no declarations.
import jstatModule from "jstat";

interface JStat {
  normal: { cdf(x: number, mean: number, sd: number): number };
  /** Regularized incomplete beta function I_x(a, b). */
  ibeta(x: number, a: number, b: number): number;
}

// jStat's CommonJS export is the jStat object itself.
const jStat = jstatModule as unknown as JStat;

/** Below this z, jStat's normal CDF (1 + erf, which cancels to 0 near z = -8.3) is not used. */
const NORMAL_TAIL_Z = -5;

/** P(Z <= z) for the standard normal. */
export function normalCdf(z: number): number {
  if (z >= NORMAL_TAIL_Z) return jStat.normal.cdf(z, 0, 1);
  return 0.5 * erfcTail(-z / Math.SQRT2);
}

/**
 * erfc(x) for x > 0 from Numerical Recipes' Chebyshev fit ("erfcc", Press et al. 1992, section 6.2),
 * whose relative error is below 1.2e-7 everywhere: it computes the tail itself instead of 1 - erf.
 */
function erfcTail(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(-x * x + poly);
}

/**
 * P(T <= t) for Student's t with `dof` degrees of freedom (need not be whole: Welch's are not),
 * through the incomplete beta function: P(T <= -|t|) = I_{dof/(dof+t^2)}(dof/2, 1/2) / 2. jStat's own
 * studentt.cdf takes a difference that cancels in the tails; this form does not.
 */
export function studentTCdf(t: number, dof: number): number {
  const lowerTail = 0.5 * jStat.ibeta(dof / (dof + t * t), dof / 2, 0.5);
  return t <= 0 ? lowerTail : 1 - lowerTail;
}
