namespace Harness.Tasks.Catalog.Recipes;

/// <summary>
/// CPython's <c>random.Random(seed)</c> for a non-negative int seed: the MT19937 generator seeded by
/// <c>init_by_array</c> over the seed's 32-bit words, with <c>getrandbits</c>, <c>_randbelow</c> and <c>sample</c>'s
/// set-based path. lm-eval draws its few-shot examples with it, so a recipe that reproduces those draws needs the
/// same stream of numbers, not merely a good one.
/// </summary>
internal sealed class PythonRandom
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] state = new uint[N];
    private int index;

    public PythonRandom(uint seed)
    {
        InitByArray([seed]);
    }

    /// <summary><c>getrandbits(bits)</c> for 1..32 bits.</summary>
    public uint GetRandBits(int bits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 32);
        return NextUInt32() >> (32 - bits);
    }

    /// <summary><c>_randbelow(n)</c>: rejection sampling over <c>n.bit_length()</c> bits.</summary>
    public int RandBelow(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var bits = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)n);
        uint r;
        do
        {
            r = GetRandBits(bits);
        }
        while (r >= (uint)n);
        return (int)r;
    }

    /// <summary>
    /// The indices <c>sample(population, k)</c> picks from a population of <paramref name="n"/>, in order. Only the
    /// set-based branch is implemented (CPython takes it when n exceeds 21 + 4**ceil(log4(3k)) for k &gt; 5, else 21).
    /// </summary>
    public int[] SampleIndices(int n, int k)
    {
        var setSize = 21;
        if (k > 5)
        {
            setSize += (int)Math.Pow(4, Math.Ceiling(Math.Log(k * 3, 4)));
        }

        if (n <= setSize || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(n), "only CPython's set-based sampling path (population much larger than the sample) is reproduced");
        }

        var selected = new HashSet<int>();
        var result = new int[k];
        for (var i = 0; i < k; i++)
        {
            int j;
            do
            {
                j = RandBelow(n);
            }
            while (!selected.Add(j));
            result[i] = j;
        }

        return result;
    }

    private void InitGenrand(uint seed)
    {
        state[0] = seed;
        for (var i = 1; i < N; i++)
        {
            state[i] = unchecked((1812433253u * (state[i - 1] ^ (state[i - 1] >> 30))) + (uint)i);
        }

        index = N;
    }

    private void InitByArray(uint[] key)
    {
        InitGenrand(19650218u);
        int i = 1, j = 0;
        for (var k = Math.Max(N, key.Length); k > 0; k--)
        {
            state[i] = unchecked((state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j);
            i++;
            j++;
            if (i >= N)
            {
                state[0] = state[N - 1];
                i = 1;
            }

            if (j >= key.Length)
            {
                j = 0;
            }
        }

        for (var k = N - 1; k > 0; k--)
        {
            state[i] = unchecked((state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) * 1566083941u)) - (uint)i);
            i++;
            if (i >= N)
            {
                state[0] = state[N - 1];
                i = 1;
            }
        }

        state[0] = 0x80000000u;
    }

    private uint NextUInt32()
    {
        if (index >= N)
        {
            for (var kk = 0; kk < N; kk++)
            {
                var y = (state[kk] & 0x80000000u) | (state[(kk + 1) % N] & 0x7fffffffu);
                state[kk] = state[(kk + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? 0x9908b0dfu : 0u);
            }

            index = 0;
        }

        var x = state[index++];
        x ^= x >> 11;
        x ^= (x << 7) & 0x9d2c5680u;
        x ^= (x << 15) & 0xefc60000u;
        x ^= x >> 18;
        return x;
    }
}
