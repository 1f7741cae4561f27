namespace Halfway.Analysis;

/// <summary>How far the capture supports a cause, strongest first: the order the report lists causes in.</summary>
internal enum CauseSupport
{
    /// <summary>The wire shows it: only this cause produces what was seen.</summary>
    Shown,
    /// <summary>Something in the capture points to it, and nothing against it; other causes remain possible.</summary>
    Supported,
    /// <summary>Fits what was seen, with nothing in the capture that singles it out: one capture point cannot tell.</summary>
    CannotTell,
}
