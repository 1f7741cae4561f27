using System.Text;

namespace Halfway.Analysis;

/// <summary>A compact ASCII sequence diagram of one connection: time | client | wire | server.</summary>
internal static class SequenceDiagram
{
    private const int TimeWidth = 11;
    private const int SideWidth = 24;
    private const int MaxWireWidth = 48;

    /// <param name="maxLines">Longer timelines keep their first and last lines with a "..." between.</param>
    public static string Render(ConnectionReport report, int wireWidth = 34, int maxLines = 40)
    {
        var entries = report.Timeline;
        long origin = entries.Count > 0 ? entries[0].AtMicroseconds : report.FirstSeenAtMicroseconds;
        // Columns widen to their longest cell: a cut word ("ECONNRE~") is a fact lost.
        string clientHeader = $"client {report.Client}";
        int sideWidth = Math.Max(SideWidth, Math.Max(clientHeader.Length, entries.Where(e => e.Column == TimelineColumn.Client).Select(e => e.Text.Length).DefaultIfEmpty(0).Max()));
        // The wire widens for packet labels up to a point; a longer note (a drop, a packet left in flight) keeps its first
        // word on the arrow and is written whole at the end of the line.
        wireWidth = Math.Max(wireWidth, entries.Where(e => e.Column is TimelineColumn.WireToServer or TimelineColumn.WireToClient)
            .Select(e => e.Text.Length + 6).Where(w => w <= MaxWireWidth).DefaultIfEmpty(0).Max());
        var text = new StringBuilder();
        text.Append("time".PadLeft(TimeWidth - 1)).Append(' ')
            .Append(clientHeader.PadRight(sideWidth)).Append(' ')
            .Append(Center("wire", wireWidth)).Append(' ')
            .Append($"server {report.Server}").AppendLine();
        int head = entries.Count <= maxLines ? entries.Count : maxLines * 2 / 3;
        int tailStart = entries.Count <= maxLines ? entries.Count : entries.Count - (maxLines - head);
        for (int i = 0; i < entries.Count; i++)
        {
            if (i == head && head < tailStart)
            {
                text.Append(' ', TimeWidth).Append(' ', sideWidth + 1).Append(Center($"... {tailStart - head} more ...", wireWidth)).AppendLine();
                i = tailStart - 1;
                continue;
            }
            var entry = entries[i];
            text.Append(TimeText.Offset(entry.AtMicroseconds, origin).PadLeft(TimeWidth - 1)).Append(' ');
            switch (entry.Column)
            {
                case TimelineColumn.Client:
                    text.Append(entry.Text.PadRight(sideWidth)).Append(' ').Append(' ', wireWidth).Append(" |");
                    break;
                case TimelineColumn.Server:
                    text.Append(' ', sideWidth).Append(' ').Append(' ', wireWidth).Append(" | ").Append(entry.Text);
                    break;
                case TimelineColumn.WireToServer or TimelineColumn.WireToClient:
                    bool fits = entry.Text.Length <= wireWidth - 6;
                    string label = fits ? entry.Text : entry.Text.Split(' ')[0][..Math.Min(entry.Text.Split(' ')[0].Length, wireWidth - 6)];
                    text.Append(' ', sideWidth).Append(' ').Append(Arrow(label, wireWidth, toServer: entry.Column == TimelineColumn.WireToServer)).Append(" |");
                    if (!fits)
                        text.Append("   (").Append(entry.Text).Append(')');
                    break;
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    private static string Arrow(string label, int width, bool toServer)
    {
        int dashes = width - label.Length - 2;
        return toServer
            ? label + " " + new string('-', dashes) + ">"
            : "<" + new string('-', dashes) + " " + label;
    }

    private static string Center(string text, int width)
    {
        if (text.Length >= width)
            return text[..width];
        int left = (width - text.Length) / 2;
        return new string(' ', left) + text + new string(' ', width - text.Length - left);
    }
}
