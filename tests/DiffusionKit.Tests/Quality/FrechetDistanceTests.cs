using DiffusionKit.Quality;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Quality;

public sealed class FrechetDistanceTests
{
    private static Tensor Normal(long rows, long columns, ulong seed)
    {
        using var generator = new Generator(seed);
        return randn(new[] { rows, columns }, dtype: ScalarType.Float64, generator: generator);
    }

    [Fact]
    public void Identical_sets_are_0_apart()
    {
        using var a = Normal(500, 6, 1);
        FrechetDistance.Between(a, a).Should().BeApproximately(0, 1e-9);
    }

    [Fact]
    public void In_one_dimension_it_is_the_squared_differences_of_means_and_standard_deviations()
    {
        using var a = Normal(1000, 1, 2);
        using var b = a.mul(2).add(3);
        double meanA = a.mean().item<double>(), sdA = a.std().item<double>();
        double meanB = b.mean().item<double>(), sdB = b.std().item<double>();
        double expected = Math.Pow(meanA - meanB, 2) + Math.Pow(sdA - sdB, 2);

        FrechetDistance.Between(a, b).Should().BeApproximately(expected, 1e-9);
        FrechetDistance.Between(b, a).Should().BeApproximately(expected, 1e-9, "the distance is symmetric");
    }

    [Fact]
    public void Independent_columns_add_up_like_one_dimensional_distances()
    {
        // Columns scaled by 1, 2, 3 against unit-variance columns: sum of (σa − σb)² plus the mean shift, to sampling error.
        using var a = Normal(20000, 3, 3);
        using var b = Normal(20000, 3, 4).mul(tensor(new double[] { 1, 2, 3 })).add(tensor(new double[] { 0.5, 0, 0 }));
        double expected = (0.5 * 0.5) + 0 + 1 + 4;
        FrechetDistance.Between(a, b).Should().BeApproximately(expected, 0.1);
    }

    [Fact]
    public void Float32_features_give_the_float64_distance()
    {
        using var a = Normal(300, 4, 5);
        using var b = Normal(300, 4, 6).add(1);
        FrechetDistance.Between(a.to(ScalarType.Float32), b.to(ScalarType.Float32)).Should().BeApproximately(FrechetDistance.Between(a, b), 1e-4);
    }

    [Fact]
    public void Bad_feature_sets_are_refused_naming_the_argument()
    {
        using var good = Normal(10, 3, 7);
        using var nan = good.clone();
        nan[0, 0] = tensor(double.NaN);

        FluentActions.Invoking(() => FrechetDistance.Between(good, nan)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "b" && e.Message.Contains("NaN"));
        FluentActions.Invoking(() => FrechetDistance.Between(good.narrow(0, 0, 1), good)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "a" && e.Message.Contains("N ≥ 2"));
        FluentActions.Invoking(() => FrechetDistance.Between(good, good.narrow(1, 0, 2))).Should().Throw<ArgumentException>().Where(e => e.Message.Contains("same width"));
        FluentActions.Invoking(() => FrechetDistance.Between(good.flatten(), good)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "a");
    }
}
