using FluentAssertions;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Xunit;

namespace DiffusionKit.Server.Tests;

/// <summary>The page at <c>/</c> in a real headless chromium, driven through chromedriver.</summary>
[Collection(ServerCollection.Name)]
public sealed class BrowserTests(ServerFixture fixture)
{
    [BrowserFact]
    public void Typing_a_prompt_and_pressing_generate_shows_an_image_moves_the_progress_bar_and_a_bad_prompt_shows_the_error()
    {
        using var driver = StartChromium();
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(60));
        driver.Navigate().GoToUrl(fixture.Server.Address);

        // 1. A good prompt: an image appears and the progress bar went through the steps.
        var prompt = driver.FindElement(By.Id("prompt"));
        prompt.Clear();
        prompt.SendKeys("a small green square");
        var seed = driver.FindElement(By.Id("seed"));
        seed.Clear();
        seed.SendKeys("21");
        driver.FindElement(By.Id("generate")).Click();
        var image = wait.Until(d => d.FindElements(By.CssSelector("#results img.result")).FirstOrDefault());
        wait.Until(d => d.FindElement(By.Id("generate")).Enabled);

        image!.GetAttribute("src").Should().StartWith("data:image/png;base64,");
        image.GetAttribute("data-seed").Should().NotBeNullOrEmpty();
        ((long)((IJavaScriptExecutor)driver).ExecuteScript("return arguments[0].naturalWidth;", image)!).Should().Be(16, "the PNG decoded in the browser");
        var bar = driver.FindElement(By.Id("progress"));
        bar.GetAttribute("max").Should().Be("3");
        bar.GetAttribute("value").Should().Be("3", "the bar reached the last step");
        bar.GetAttribute("data-updates").Should().Be("3", "one server-sent progress event per step moved the bar");
        driver.FindElement(By.Id("error")).Text.Should().BeEmpty();

        // 2. A prompt with a word the model does not know: the error is shown, no new image.
        prompt.Clear();
        prompt.SendKeys("a large purple blob");
        driver.FindElement(By.Id("generate")).Click();
        var error = wait.Until(d => d.FindElement(By.Id("error")).Text is { Length: > 0 } text ? text : null);

        error.Should().StartWith("prompt:").And.Contain("purple");
        driver.FindElements(By.CssSelector("#results img.result")).Should().HaveCount(1);
    }

    private static ChromeDriver StartChromium()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(BrowserFactAttribute.DriverPath)!, Path.GetFileName(BrowserFactAttribute.DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = BrowserFactAttribute.ChromiumPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1024,768");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
