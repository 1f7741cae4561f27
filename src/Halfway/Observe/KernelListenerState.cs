using Halfway.Wire;

namespace Halfway.Observe;

/// <summary>A listener as the kernel saw it at a drop: its address and its accept queue's length and limit.</summary>
internal sealed record KernelListenerState(IpEndpoint Listener, uint AcceptQueueLength, uint AcceptQueueLimit);
