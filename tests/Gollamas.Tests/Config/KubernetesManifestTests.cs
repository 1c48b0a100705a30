using Gollamas.Config;
using YamlDotNet.RepresentationModel;

namespace Gollamas.Tests.Config;

/// <summary>
/// deploy/kubernetes/gollamas.yaml: its ConfigMap holds a valid configuration file, and the
/// Deployment reads it where the ConfigMap is mounted, as a directory (a subPath mount would
/// never see an update, so the file would never reload).
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly List<YamlMappingNode> s_documents = Load();

    [Fact]
    public void TheConfigMapsFile_IsAValidConfiguration()
    {
        var data = (YamlMappingNode)Document("ConfigMap")[new YamlScalarNode("data")];
        var text = ((YamlScalarNode)data[new YamlScalarNode("gollamas.yaml")]).Value!;
        var file = Path.Combine(Path.GetTempPath(), $"gollamas-configmap-{Environment.ProcessId}.yaml");
        File.WriteAllText(file, text);
        try
        {
            var reading = ConfigSources.Read(new ConfigInput().With(Settings.Config, new ConfigEntry(file, "--config")));

            reading.Errors.Select(static e => e.ToString()).Should().BeEmpty();
            reading.Options!.Models.Select(static m => m.Name).Should().Equal("llama3.2", "qwen3:8b");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void TheDeployment_ReadsTheFileFromTheMountedConfigMap_WithoutSubPath()
    {
        var spec = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)Document("Deployment")["spec"])["template"])["spec"];
        var container = (YamlMappingNode)((YamlSequenceNode)spec["containers"]).Children[0];
        var variables = ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>()
            .ToDictionary(static v => ((YamlScalarNode)v["name"]).Value!, static v => ((YamlScalarNode)v["value"]).Value!);
        var mount = ((YamlSequenceNode)container["volumeMounts"]).Children.Cast<YamlMappingNode>()
            .Single(static m => ((YamlScalarNode)m["name"]).Value == "config");
        var volume = ((YamlSequenceNode)spec["volumes"]).Children.Cast<YamlMappingNode>()
            .Single(static v => ((YamlScalarNode)v["name"]).Value == "config");

        mount.Children.Keys.Should().NotContain(new YamlScalarNode("subPath"));
        variables["GOLLAMAS_CONFIG"].Should().Be(((YamlScalarNode)mount["mountPath"]).Value + "/gollamas.yaml");
        ((YamlScalarNode)((YamlMappingNode)volume["configMap"])["name"]).Value.Should().Be("gollamas");
    }

    private static YamlMappingNode Document(string kind) =>
        s_documents.Single(d => ((YamlScalarNode)d["kind"]).Value == kind);

    private static List<YamlMappingNode> Load()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(AppContext.BaseDirectory, "Deploy", "kubernetes", "gollamas.yaml"));
        stream.Load(reader);
        return [.. stream.Documents.Select(static d => (YamlMappingNode)d.RootNode)];
    }
}
