using System.Text;
using Gollamas.Config;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Config;

/// <summary>The example file, damaged at random: every damage is reported as errors, never as an exception.</summary>
public class ConfigFileFuzzTests
{
    // YAML's structural characters, so that most edits change the structure rather than a word.
    private static readonly byte[] s_yamlBytes = "[]{}:,-#&*!|>'\"%@` \t\n\r\\?=x0".Select(static c => (byte)c).ToArray();

    [Fact]
    public void Parse_DamagedExample_ReportsErrorsAndNeverThrows()
    {
        var example = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Deploy", "gollamas.yaml"));
        var random = new Random(20261203);
        var rejected = 0;
        for (var i = 0; i < 3000; i++)
        {
            var text = Encoding.UTF8.GetString(
                ByteMutations.Apply([.. example], random.Next(1, 6), random, () => s_yamlBytes[random.Next(s_yamlBytes.Length)]));
            var errors = new List<ConfigError>();

            var input = ConfigFile.Parse(text, "gollamas.yaml", errors);

            if (input is null)
            {
                errors.Should().ContainSingle($"a file that is not YAML is one error:\n{text}");
                errors[0].Source.Should().MatchRegex(@"^gollamas\.yaml:\d+$");
                rejected++;
            }
        }

        // The damage reaches the parser's errors, not only values.
        rejected.Should().BeGreaterThan(100);
    }
}
