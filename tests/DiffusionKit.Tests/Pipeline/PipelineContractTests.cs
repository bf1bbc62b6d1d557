using System.Reflection;
using System.Runtime.CompilerServices;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Pipeline;

/// <summary>The consumer's view: IDiffusionPipeline and its records can be used and mocked without TorchSharp.</summary>
public sealed class PipelineContractTests
{
    private static readonly Type[] PipelineContract =
    [
        typeof(IDiffusionPipeline), typeof(GenerationRequest), typeof(GenerationResult), typeof(GeneratedImage),
        typeof(GenerationProgress), typeof(GenerationUpdate), typeof(SamplerKind), typeof(GuidanceRange),
        typeof(GenerationLimitExceededException), typeof(PipelineBusyException),
    ];

    [Fact]
    public void Pipeline_contract_lives_in_the_abstractions_and_mentions_no_TorchSharp_type()
    {
        var offenders = new List<string>();
        foreach (var type in PipelineContract)
        {
            type.Assembly.GetName().Name.Should().Be("DiffusionKit.Pipeline.Abstractions", "the contract ships in the package with no native dependency");
            foreach (var member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                foreach (var used in SignatureTypes(member).SelectMany(Expand))
                {
                    if (used.Assembly.GetName().Name!.StartsWith("TorchSharp", StringComparison.Ordinal))
                    {
                        offenders.Add($"{type.Name}.{member.Name}: {used.FullName}");
                    }
                }
            }
        }

        offenders.Should().BeEmpty();
        typeof(IDiffusionPipeline).Assembly.GetReferencedAssemblies().Select(a => a.Name).Should().NotContain(n => n!.StartsWith("TorchSharp", StringComparison.Ordinal) || n!.StartsWith("DiffusionKit", StringComparison.Ordinal),
            "the contract's assembly references nothing but the framework");
        SignatureTypes(typeof(IDiffusionPipeline).GetMethod(nameof(IDiffusionPipeline.GenerateAsync))!).SelectMany(Expand)
            .Should().Contain(typeof(GenerationResult), "the check walks generic arguments, so it would see a tensor inside Task<...>");
    }

    [Fact]
    public async Task A_consumer_can_mock_the_pipeline()
    {
        var fake = new FakePipeline();

        var png = await ThumbnailService.RenderAsync(fake, "red circle", CancellationToken.None);
        var steps = new List<int>();
        await foreach (var update in fake.GenerateStreamingAsync(new GenerationRequest { Prompts = ["x"] }))
        {
            steps.Add(update.Progress.Step);
        }

        png.Should().Equal(1, 2, 3);
        fake.Requests.Select(r => r.Prompts.Single()).Should().Equal(new[] { "red circle", "x" });
        steps.Should().Equal(1, 2);
    }

    private static IEnumerable<Type> SignatureTypes(MemberInfo member) => member switch
    {
        MethodInfo m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType),
        ConstructorInfo c => c.GetParameters().Select(p => p.ParameterType),
        PropertyInfo p => [p.PropertyType],
        FieldInfo f => [f.FieldType],
        EventInfo e => [e.EventHandlerType!],
        _ => [],
    };

    private static IEnumerable<Type> Expand(Type type)
    {
        yield return type;
        var inner = type.HasElementType ? [type.GetElementType()!] : type.IsGenericType ? type.GetGenericArguments() : Array.Empty<Type>();
        foreach (var t in inner.SelectMany(Expand))
        {
            yield return t;
        }
    }

    /// <summary>A host-side service that depends on the abstraction only.</summary>
    private static class ThumbnailService
    {
        public static async Task<byte[]> RenderAsync(IDiffusionPipeline pipeline, string prompt, CancellationToken cancellationToken)
        {
            var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = [prompt] }, cancellationToken);
            return result.Images[0].Png.ToArray();
        }
    }

    /// <summary>A hand-written mock built from abstractions types only.</summary>
    private sealed class FakePipeline : IDiffusionPipeline
    {
        public List<GenerationRequest> Requests { get; } = [];

        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
        {
            Requests.Add(request);
            var image = new GeneratedImage(request.Prompts[0], 0, 0, 1, 1, 1, new byte[] { 9, 9, 9 }, new byte[] { 1, 2, 3 });
            return Task.FromResult(new GenerationResult([image], TimeSpan.Zero));
        }

        public async IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            yield return new GenerationUpdate(new GenerationProgress(0, 1, 1, 2), []);
            yield return new GenerationUpdate(new GenerationProgress(0, 1, 2, 2), (await GenerateAsync(request, cancellationToken)).Images);
        }
    }
}
