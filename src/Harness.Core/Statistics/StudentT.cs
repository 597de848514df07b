namespace Harness.Core.Statistics;

/// <summary>Student's t distribution with real degrees of freedom.</summary>
public static class StudentT
{
    /// <summary>P(T &lt;= <paramref name="t"/>) via the regularized incomplete beta function (about 1e-14 absolute).</summary>
    public static double Cdf(double t, double degreesOfFreedom)
    {
        CheckDegrees(degreesOfFreedom);
        if (double.IsNaN(t))
        {
            return double.NaN;
        }

        if (double.IsInfinity(t))
        {
            return t > 0 ? 1.0 : 0.0;
        }

        double x = degreesOfFreedom / (degreesOfFreedom + t * t);
        double tail = 0.5 * SpecialFunctions.RegularizedIncompleteBeta(degreesOfFreedom / 2.0, 0.5, x);
        return t >= 0 ? 1.0 - tail : tail;
    }

    /// <summary>Quantile function; bisection on <see cref="Cdf"/> to full double precision.</summary>
    public static double InverseCdf(double p, double degreesOfFreedom)
    {
        CheckDegrees(degreesOfFreedom);
        if (double.IsNaN(p) || p < 0.0 || p > 1.0)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "A probability must be in [0, 1].");
        }

        if (p == 0.0)
        {
            return double.NegativeInfinity;
        }

        if (p == 1.0)
        {
            return double.PositiveInfinity;
        }

        if (p == 0.5)
        {
            return 0.0;
        }

        // Symmetry keeps the search on the positive half, where the CDF's tail is computed without cancellation.
        if (p < 0.5)
        {
            return -InverseCdf(1.0 - p, degreesOfFreedom);
        }

        double high = 1.0;
        while (Cdf(high, degreesOfFreedom) < p)
        {
            high *= 2.0;
            if (double.IsInfinity(high))
            {
                return double.PositiveInfinity;
            }
        }

        double low = 0.0;
        for (int i = 0; i < 200 && high - low > 1e-15 * Math.Max(1.0, high); i++)
        {
            double middle = 0.5 * (low + high);
            if (Cdf(middle, degreesOfFreedom) < p)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return 0.5 * (low + high);
    }

    /// <summary>The t with P(-t &lt;= T &lt;= t) = <paramref name="confidence"/>, e.g. 2.262157 for 0.95 at 9 degrees of freedom.</summary>
    public static double TwoSidedCriticalValue(double confidence, double degreesOfFreedom)
    {
        Guard.Confidence(confidence);
        return InverseCdf(0.5 + confidence / 2.0, degreesOfFreedom);
    }

    private static void CheckDegrees(double degreesOfFreedom)
    {
        if (double.IsNaN(degreesOfFreedom) || degreesOfFreedom <= 0.0)
        {
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "Degrees of freedom must be positive.");
        }
    }
}

internal static class SpecialFunctions
{
    private static readonly double[] LanczosCoefficients =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7,
    ];

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7; about 1e-15 relative).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5)
        {
            // Reflection keeps the Lanczos series in its accurate range.
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1.0 - x);
        }

        x -= 1.0;
        double sum = LanczosCoefficients[0];
        for (int i = 1; i < LanczosCoefficients.Length; i++)
        {
            sum += LanczosCoefficients[i] / (x + i);
        }

        double t = x + 7.5;
        return 0.5 * Math.Log(2.0 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    /// <summary>I_x(a, b), by the continued fraction (modified Lentz) on whichever side converges fast.</summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0.0)
        {
            return 0.0;
        }

        if (x >= 1.0)
        {
            return 1.0;
        }

        double logFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1.0 - x);
        double front = Math.Exp(logFront);
        return x < (a + 1.0) / (a + b + 2.0)
            ? front * BetaContinuedFraction(a, b, x) / a
            : 1.0 - front * BetaContinuedFraction(b, a, 1.0 - x) / b;
    }

    private static double BetaContinuedFraction(double a, double b, double x)
    {
        const double Tiny = 1e-300;
        const double Epsilon = 1e-16;
        double qab = a + b;
        double qap = a + 1.0;
        double qam = a - 1.0;
        double c = 1.0;
        double d = 1.0 - qab * x / qap;
        d = Math.Abs(d) < Tiny ? Tiny : d;
        d = 1.0 / d;
        double h = d;
        for (int m = 1; m <= 10_000; m++)
        {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1.0 + aa * d;
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = 1.0 + aa / c;
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1.0 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1.0 + aa * d;
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = 1.0 + aa / c;
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1.0 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1.0) < Epsilon)
            {
                return h;
            }
        }

        return h;
    }
}
