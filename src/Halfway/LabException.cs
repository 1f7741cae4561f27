namespace Halfway;

/// <summary>The lab could not be built or used (missing privileges, a refused kernel setting, ...).</summary>
internal sealed class LabException(string message, Exception? inner = null) : HalfwayException(message, 2, inner);
