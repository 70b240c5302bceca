using ArcBox.Daemon.Sandboxes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Api;

/// <summary>
/// Every failure leaves the API as {"error": {...}} with a status that says whose fault it is: a request's expected
/// failure with its own code, anything unexpected as a 500 "failure" with its message, and a log line with the
/// whole exception (a bare 500 would tell the client nothing and the operator less).
/// </summary>
public static class ApiErrors
{
    public static IResult From(RequestException ex)
    {
        var (status, code) = ex.Code switch
        {
            ErrorCode.Invalid => (StatusCodes.Status400BadRequest, "invalid"),
            ErrorCode.NotFound => (StatusCodes.Status404NotFound, "not_found"),
            ErrorCode.Conflict => (StatusCodes.Status409Conflict, "conflict"),
            _ => (StatusCodes.Status500InternalServerError, "failure"),
        };
        return Results.Json(new ErrorBody(new ErrorDetail(code, ex.Message, ex.Details)), ApiJson.Options, statusCode: status);
    }

    /// <summary>The middleware that turns exceptions from any endpoint into error bodies.</summary>
    public static Func<HttpContext, RequestDelegate, Task> Middleware(ILogger log) => async (context, next) =>
    {
        try
        {
            await next(context);

            // Routing's own refusals (no such endpoint, a method the path does not take) carry no body.
            if (context.Response.StatusCode >= 400 && !context.Response.HasStarted && context.Response.ContentType is null)
            {
                await Status(context.Response.StatusCode, context.Request).ExecuteAsync(context);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
        catch (Exception ex)
        {
            var result = ex switch
            {
                RequestException request => From(request),
                System.Net.Sockets.SocketException socket => From(new RequestException(ErrorCode.Failure, socket.Message)),
                BadHttpRequestException bad => Results.Json(new ErrorBody(new ErrorDetail("invalid", bad.Message, null)), ApiJson.Options, statusCode: bad.StatusCode),
                _ => Unexpected(ex, context, log),
            };
            if (context.Response.HasStarted)
            {
                // Part of the answer is out (a stream): the connection is all that can still say it failed.
                Hosting.Log.RequestFailed(log, ex, context.Request.Method, context.Request.Path);
                context.Abort();
                return;
            }

            context.Response.Clear();
            await result.ExecuteAsync(context);
        }
    };

    private static IResult Status(int status, HttpRequest request) => Results.Json(
        new ErrorBody(status switch
        {
            StatusCodes.Status404NotFound => new ErrorDetail("not_found", $"no endpoint {request.Method} {request.Path}", null),
            StatusCodes.Status405MethodNotAllowed => new ErrorDetail("invalid", $"{request.Path} does not take {request.Method}", null),
            < 500 => new ErrorDetail("invalid", $"the request was refused (HTTP {status})", null),
            _ => new ErrorDetail("failure", $"the request failed (HTTP {status})", null),
        }),
        ApiJson.Options,
        statusCode: status);

    private static IResult Unexpected(Exception ex, HttpContext context, ILogger log)
    {
        Hosting.Log.RequestFailed(log, ex, context.Request.Method, context.Request.Path);
        return Results.Json(new ErrorBody(new ErrorDetail("failure", $"{ex.GetType().Name}: {ex.Message}", null)), ApiJson.Options, statusCode: StatusCodes.Status500InternalServerError);
    }
}
