using System.Reflection;

namespace Halfway.Reports.Html;

/// <summary>The script, style and chart library every HTML report inlines, read from the assembly: a page never fetches anything.</summary>
internal static class HtmlAssets
{
    public static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("html/" + name)
            ?? throw new InvalidOperationException($"the build did not embed html/{name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Text placed inside a script element must not close it.</summary>
    public static string ForScript(string code) => code.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
}
