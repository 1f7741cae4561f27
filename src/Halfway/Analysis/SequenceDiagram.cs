using System.Text;

namespace Halfway.Analysis;

/// <summary>A compact ASCII sequence diagram of one connection: time | client | wire | server.</summary>
internal static class SequenceDiagram
{
    private const int TimeWidth = 11;
    private const int SideWidth = 24;

    /// <param name="maxLines">Longer timelines keep their first and last lines with a "..." between.</param>
    public static string Render(ConnectionReport report, int wireWidth = 34, int maxLines = 40)
    {
        var entries = report.Timeline;
        long origin = entries.Count > 0 ? entries[0].AtMicroseconds : report.FirstSeenAtMicroseconds;
        var text = new StringBuilder();
        text.Append("time".PadLeft(TimeWidth - 1)).Append(' ')
            .Append(Fit($"client {report.Client}", SideWidth)).Append(' ')
            .Append(Center("wire", wireWidth)).Append(' ')
            .Append(Fit($"server {report.Server}", SideWidth + 8)).AppendLine();
        int head = entries.Count <= maxLines ? entries.Count : maxLines * 2 / 3;
        int tailStart = entries.Count <= maxLines ? entries.Count : entries.Count - (maxLines - head);
        for (int i = 0; i < entries.Count; i++)
        {
            if (i == head && head < tailStart)
            {
                text.Append(' ', TimeWidth).Append(' ', SideWidth + 1).Append(Center($"... {tailStart - head} more ...", wireWidth)).AppendLine();
                i = tailStart - 1;
                continue;
            }
            var entry = entries[i];
            text.Append(TimeText.Offset(entry.AtMicroseconds, origin).PadLeft(TimeWidth - 1)).Append(' ');
            switch (entry.Column)
            {
                case TimelineColumn.Client:
                    text.Append(Fit(entry.Text, SideWidth)).Append(' ').Append(' ', wireWidth).Append(" |");
                    break;
                case TimelineColumn.Server:
                    text.Append(' ', SideWidth).Append(' ').Append(' ', wireWidth).Append(" | ").Append(entry.Text);
                    break;
                case TimelineColumn.WireToServer:
                    text.Append(' ', SideWidth).Append(' ').Append(Arrow(entry.Text, wireWidth, toServer: true)).Append(" |");
                    break;
                case TimelineColumn.WireToClient:
                    text.Append(' ', SideWidth).Append(' ').Append(Arrow(entry.Text, wireWidth, toServer: false)).Append(" |");
                    break;
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    private static string Arrow(string label, int width, bool toServer)
    {
        label = label.Length > width - 6 ? label[..(width - 6)] : label;
        int dashes = width - label.Length - 2;
        return toServer
            ? label + " " + new string('-', dashes) + ">"
            : "<" + new string('-', dashes) + " " + label;
    }

    private static string Fit(string text, int width) => text.Length > width ? text[..(width - 1)] + "~" : text.PadRight(width);

    private static string Center(string text, int width)
    {
        if (text.Length >= width)
            return text[..width];
        int left = (width - text.Length) / 2;
        return new string(' ', left) + text + new string(' ', width - text.Length - left);
    }
}
