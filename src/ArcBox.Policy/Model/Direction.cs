namespace ArcBox.Policy.Model;

public enum Direction
{
    Outbound,
    Inbound,
}
